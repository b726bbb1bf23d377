import { compareStrings, intern } from '../util/bytes';
import { ByteReader, ByteWriter, DecodeError } from '../protocol/wire';
import type { Hasher } from '../ports/hasher';

/** One replica's counter. Ids are a replica's index id: a replica that lost its state gets a new one. */
export interface VectorEntry {
  readonly id: string;
  readonly counter: number;
}

/** Sorted by id, no zero counters, no duplicates: one value has one representation. */
export type VersionVector = readonly VectorEntry[];

export type Ordering = 'equal' | 'greater' | 'lesser' | 'concurrent';

export const EMPTY_VECTOR: VersionVector = Object.freeze([]);

export function counterOf(v: VersionVector, id: string): number {
  for (const e of v) if (e.id === id) return e.counter;
  return 0;
}

/**
 * The next counter for `id`: at least one more than anything this replica issued before and at
 * least the current time in milliseconds, so a replica that forgot its counters still moves
 * forward, and counters stay close to the clock (a burst of N versions runs at most N ms ahead
 * of it), which lets a receiver tell a forged counter from a real one (vector-guard.ts).
 * Counters issued before version 1.1 followed seconds; milliseconds are always larger.
 */
export function nextCounter(lastIssued: number, nowMs: number): number {
  return Math.max(lastIssued + 1, Math.floor(nowMs));
}

export function withCounter(v: VersionVector, id: string, counter: number): VersionVector {
  const out: VectorEntry[] = v.filter((e) => e.id !== id);
  out.push({ id, counter });
  out.sort((a, b) => compareStrings(a.id, b.id));
  return out;
}

export function merge(a: VersionVector, b: VersionVector): VersionVector {
  const out: VectorEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.id < y.id)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y.id < x.id) {
      out.push(y);
      j++;
    } else {
      out.push(x.counter >= y.counter ? x : y);
      i++;
      j++;
    }
  }
  return out;
}

export function compare(a: VersionVector, b: VersionVector): Ordering {
  let aHasMore = false;
  let bHasMore = false;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.id < y.id)) {
      aHasMore = true;
      i++;
    } else if (x === undefined || y.id < x.id) {
      bHasMore = true;
      j++;
    } else {
      if (x.counter > y.counter) aHasMore = true;
      else if (x.counter < y.counter) bHasMore = true;
      i++;
      j++;
    }
    if (aHasMore && bHasMore) return 'concurrent';
  }
  return aHasMore ? 'greater' : bHasMore ? 'lesser' : 'equal';
}

/** Rejects vectors that are not in canonical form (the codec calls this on every decoded vector). */
export function isCanonical(v: VersionVector): boolean {
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    if (!Number.isSafeInteger(e.counter) || e.counter <= 0 || e.id.length === 0) return false;
    if (i > 0 && !(v[i - 1]!.id < e.id)) return false;
  }
  return true;
}

export function writeVector(w: ByteWriter, v: VersionVector): void {
  w.varint(v.length);
  for (const e of v) w.string(e.id).varint(e.counter);
}

export const MAX_VECTOR_ENTRIES = 4096;
export const MAX_REPLICA_ID_LENGTH = 64;

export function readVector(r: ByteReader): VersionVector {
  const n = r.varint();
  if (n > MAX_VECTOR_ENTRIES) throw new DecodeError('badValue', `vector with ${n} entries`);
  // Sized up front: a pushed-to array keeps room for 16 entries.
  const out = new Array<VectorEntry>(n);
  for (let i = 0; i < n; i++) out[i] = { id: intern(r.string(MAX_REPLICA_ID_LENGTH)), counter: r.varint() };
  if (!isCanonical(out)) throw new DecodeError('badValue', 'version vector not canonical');
  return out;
}

export function encodeVector(v: VersionVector): Uint8Array {
  const w = new ByteWriter();
  writeVector(w, v);
  return w.finish();
}

/** The compact form carried in presence: SHA-256 of the canonical encoding. */
export function compactVector(v: VersionVector, hasher: Hasher): Uint8Array {
  return hasher.sha256(encodeVector(v));
}

export function formatVector(v: VersionVector): string {
  return `{${v.map((e) => `${e.id}:${e.counter}`).join(',')}}`;
}
