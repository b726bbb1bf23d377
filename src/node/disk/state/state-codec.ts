import type { FileRecord } from '../../../sync/model/file-record';
import type { DeferredEntry, NeededEntry, PeerPosition, ReplicaMeta } from '../../../sync/ports/ports';
import { decodeRecord, encodeRecord, type CodecLimits, DEFAULT_LIMITS } from '../../../sync/protocol/codec';
import { ByteReader, ByteWriter, DecodeError } from '../../../sync/protocol/wire';
import { blockListLength, blockListStart, type PackedArena } from './packed-record';

/** State files may hold what no single wire frame would: huge files, many deferred versions. */
const STATE_LIMITS: CodecLimits = { ...DEFAULT_LIMITS, maxBlocksPerRecord: Number.MAX_SAFE_INTEGER, maxFrameSize: Number.MAX_SAFE_INTEGER };

/** 2: the meta records the root the state belongs to. Frames of format 1 are still read. */
export const STATE_FORMAT = 2;
export const OLDEST_STATE_FORMAT = 1;

/** A record as the state keeps it: the wire form plus the local inode (0 when unknown). */
export function encodeStateRecord(r: FileRecord): Uint8Array {
  const w = new ByteWriter();
  writeStateRecord(w, r);
  return w.finish();
}

function writeStateRecord(w: ByteWriter, r: FileRecord): void {
  encodeRecord(w, r, STATE_LIMITS);
  w.varint(r.inode ?? 0);
}

function readStateRecord(r: ByteReader): FileRecord {
  return decodeRecord(r, STATE_LIMITS, true);
}

export function decodeStateRecord(bytes: Uint8Array): FileRecord {
  const r = new ByteReader(bytes);
  const record = readStateRecord(r);
  r.end();
  return record;
}

/**
 * decodeStateRecord, with the hash and block list kept packed in `arena` (packed-record.ts) and
 * decoded when read: for the records a replica holds, which are most of its memory. `path` is the
 * key the entry was stored under: the record takes that string, and one of another path is damage.
 */
export function decodePackedStateRecord(bytes: Uint8Array, arena: PackedArena, path: string): FileRecord {
  const decoded = decodeStateRecord(bytes);
  if (decoded.path !== path) throw new DecodeError('badValue', `the entry of ${path} holds a record of ${decoded.path}`);
  if (decoded.hash.length !== 32 || decoded.blocks.length === 0) return { ...decoded, path };
  const from = blockListStart(bytes);
  return arena.pack(decoded, path, bytes, from, from + blockListLength(decoded));
}

export function encodeNeeded(n: NeededEntry): Uint8Array {
  const w = new ByteWriter().string(n.path).u8(n.onDisk ? 1 : 0);
  if (n.onDisk) writeStateRecord(w, n.onDisk);
  return w.finish();
}

/** A flag written as 0 or 1; any other byte is damage, not a second way to write false. */
export function readFlag(r: ByteReader, what: string): boolean {
  const b = r.u8();
  if (b > 1) throw new DecodeError('badValue', `${what} flag ${b}, expected 0 or 1`);
  return b === 1;
}

export function decodeNeeded(bytes: Uint8Array): NeededEntry {
  const r = new ByteReader(bytes);
  const path = r.string(STATE_LIMITS.maxPathBytes);
  const entry: NeededEntry = readFlag(r, 'onDisk') ? { path, onDisk: readStateRecord(r) } : { path };
  r.end();
  return entry;
}

export function encodeDeferred(d: DeferredEntry): Uint8Array {
  const w = new ByteWriter().string(d.path).varint(d.records.length);
  for (const record of d.records) writeStateRecord(w, record);
  return w.finish();
}

export function decodeDeferred(bytes: Uint8Array): DeferredEntry {
  const r = new ByteReader(bytes);
  const path = r.string(STATE_LIMITS.maxPathBytes);
  const records: FileRecord[] = [];
  for (let n = r.varint(); n > 0; n--) records.push(readStateRecord(r));
  r.end();
  return { path, records };
}

export function writeMeta(w: ByteWriter, m: ReplicaMeta): void {
  w.string(m.indexId)
    .varint(m.sequence)
    .varint(m.counter)
    .u8(m.paused ? 1 : 0)
    .string(m.rootId ?? '');
}

/** A meta of format 1 has no root: such a state never matches a folder, so it is never applied to one. */
export function readMeta(r: ByteReader, format: number): ReplicaMeta {
  const meta = { indexId: r.string(STATE_LIMITS.maxNameBytes), sequence: r.varint(), counter: r.varint(), paused: readFlag(r, 'paused') };
  const rootId = format >= 2 ? r.string(STATE_LIMITS.maxNameBytes) : '';
  return rootId === '' ? meta : { ...meta, rootId };
}

export function writePeer(w: ByteWriter, p: PeerPosition): void {
  w.string(p.peer).string(p.indexId).varint(p.sequence);
}

export function readPeer(r: ByteReader): PeerPosition {
  return { peer: r.string(STATE_LIMITS.maxNameBytes), indexId: r.string(STATE_LIMITS.maxNameBytes), sequence: r.varint() };
}

/** Each keyed section of a frame: entries set (as encoded bytes) and keys removed. */
export interface Section {
  readonly set: readonly Uint8Array[];
  readonly remove: readonly string[];
}

/** Writes a section; `at`, when given, receives each set entry's offset in the writer. */
export function writeSection(w: ByteWriter, s: Section, at?: number[]): void {
  w.varint(s.set.length);
  for (const bytes of s.set) {
    at?.push(w.length);
    w.bytes(bytes);
  }
  w.varint(s.remove.length);
  for (const key of s.remove) w.string(key);
}

/** Reads a section; `at`, when given, receives each set entry's offset in the reader's buffer. */
export function readSection(r: ByteReader, at?: number[]): Section {
  const set: Uint8Array[] = [];
  for (let n = r.varint(); n > 0; n--) {
    at?.push(r.offset);
    set.push(r.bytes(Number.MAX_SAFE_INTEGER));
  }
  const remove: string[] = [];
  for (let n = r.varint(); n > 0; n--) remove.push(r.string(STATE_LIMITS.maxPathBytes));
  return { set, remove };
}

/** The path a record, needed or deferred entry is keyed by: its first field. */
export function keyOf(bytes: Uint8Array): string {
  return new ByteReader(bytes).string(STATE_LIMITS.maxPathBytes);
}
