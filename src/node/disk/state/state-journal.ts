/**
 * src/node/disk/state/: the engine's StateStore on disk: a snapshot plus an append-only journal
 * of committed steps, in CRC-32 checked frames, so a torn last write is cut off on load
 * (docs/DISK.md). state-codec.ts encodes the entries; records use the wire encoding.
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { FileRecord } from '../../../sync/model/file-record';
import type { PeerPosition, PersistedState, ReplicaMeta, StateChange, StateStore } from '../../../sync/ports/ports';
import { ByteReader, ByteWriter } from '../../../sync/protocol/wire';
import { crc32 } from './crc32';
import { errnoOf } from '../disk-errors';
import { replaceFile, replaceFileSync } from '../durable-write';
import { SerialQueue } from '../../../sync/util/serial-queue';
import {
  decodeDeferred,
  decodeNeeded,
  decodePackedStateRecord,
  encodeDeferred,
  encodeNeeded,
  encodeStateRecord,
  keyOf,
  readMeta,
  readFlag,
  readPeer,
  OLDEST_STATE_FORMAT,
  readSection,
  STATE_FORMAT,
  writeMeta,
  writePeer,
  writeSection,
  type Section,
} from './state-codec';
import { PackedArena } from './packed-record';

const MAGIC = new TextEncoder().encode('SFSTATE\n');
const HEADER_BYTES = MAGIC.length + 4;
const FRAME_HEADER = 8;
/** Entries per frame when a snapshot is written: bounds the memory of writing and of reading back. */
const SNAPSHOT_BATCH = 10_000;

export interface StateJournalOptions {
  /** Compact once the journal is larger than this and than the snapshot. */
  readonly compactAfterBytes?: number;
  /** 'fsync' (default) makes each commit durable against power loss; 'none' only against a killed process. */
  readonly sync?: 'fsync' | 'none';
}

export class StateLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`state folder ${dir} is in use by process ${pid}`);
    this.name = 'StateLockedError';
  }
}

/** A state file whose bytes are not what this journal wrote: reported, never silently reset. */
export class StateCorruptError extends Error {
  constructor(file: string, detail: string) {
    super(`state file ${file} is damaged: ${detail}`);
    this.name = 'StateCorruptError';
  }
}

/**
 * A replica's durable state as a snapshot plus an append-only journal of changes, in plain
 * JavaScript. A commit is one frame (length, CRC-32, payload) appended with one write; a torn
 * last frame after a crash is cut off on load. When the journal has grown, the whole state is
 * written to a new snapshot under the next generation and the journal starts over; the
 * generation in both headers tells a stale journal from the current one whatever moment a
 * crash hits. Records are not held in memory at all, only where each one's bytes lie in the
 * snapshot or the journal (the replica above holds them as objects already); loading and
 * compacting read them back from the files in file order.
 */
export class StateJournal implements StateStore {
  private meta: ReplicaMeta | undefined;
  /** Path -> where the record's entry lies: `offset * 2 + file` (0 the snapshot, 1 the journal). */
  private readonly records = new Map<string, number>();
  private readonly needed = new Map<string, Uint8Array>();
  private readonly deferred = new Map<string, Uint8Array>();
  private readonly peers = new Map<string, PeerPosition>();
  private generation = 0;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private compactions = 0;
  private fd: number | undefined;
  private readonly commits = new SerialQueue();

  private constructor(
    readonly dir: string,
    private readonly options: StateJournalOptions,
  ) {}

  static async open(dir: string, options: StateJournalOptions = {}): Promise<StateJournal> {
    await fs.promises.mkdir(dir, { recursive: true });
    takeLock(dir);
    const journal = new StateJournal(dir, options);
    try {
      journal.readFiles();
    } catch (err) {
      releaseLock(dir);
      throw err;
    }
    return journal;
  }

  get stats(): { journalBytes: number; snapshotBytes: number; compactions: number; generation: number } {
    return {
      journalBytes: this.journalBytes,
      snapshotBytes: this.snapshotBytes,
      compactions: this.compactions,
      generation: this.generation,
    };
  }

  async load(): Promise<PersistedState | undefined> {
    if (!this.meta) return undefined;
    return {
      meta: this.meta,
      records: this.loadRecords(),
      needed: [...this.needed.values()].map(decodeNeeded),
      deferred: [...this.deferred.values()].map(decodeDeferred),
      peers: [...this.peers.values()],
    };
  }

  /**
   * Decodes every record, each file's entries in file order, and gives each record the journal's
   * own key string as its path, so the journal and the replica share one copy of a million paths
   * and the map is not built twice (its keys came from replaying the frames).
   */
  private loadRecords(): FileRecord[] {
    let keys: string[] = [];
    let locations = new Float64Array(this.records.size);
    // Replayed maps list each file's entries in file order; one a compaction renumbered may not.
    const last = [-1, -1];
    let inFileOrder = true;
    for (const [key, loc] of this.records) {
      if (loc <= last[loc % 2]!) inFileOrder = false;
      last[loc % 2] = loc;
      locations[keys.length] = loc;
      keys.push(key);
    }
    if (!inFileOrder) {
      const order = keys.map((_, i) => i).sort((a, b) => locations[a]! - locations[b]!);
      const unsorted = { keys, locations };
      keys = order.map((i) => unsorted.keys[i]!);
      locations = Float64Array.from(order, (i) => unsorted.locations[i]!);
    }
    const out: FileRecord[] = [];
    const arena = new PackedArena();
    let i = 0;
    for (const bytes of this.entriesAt(locations, false)) out.push(decodePackedStateRecord(bytes, arena, keys[i++]!));
    return out;
  }

  commit(change: StateChange): Promise<void> {
    return this.commits.run(() => this.append(change));
  }

  reset(meta: ReplicaMeta): Promise<void> {
    return this.commits.run(() => this.replaceAll(meta));
  }

  async close(): Promise<void> {
    await this.commits.idle();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    releaseLock(this.dir);
  }

  // ---- writing ---------------------------------------------------------------------------

  private async append(change: StateChange): Promise<void> {
    if (this.fd === undefined) throw new Error(`state folder ${this.dir} is closed`);
    const sections = {
      records: section(change.records ?? [], encodeStateRecord, change.removeRecords),
      needed: section(change.needed ?? [], encodeNeeded, change.removeNeeded),
      deferred: section(change.deferred ?? [], encodeDeferred, change.removeDeferred),
    };
    const at: number[] = [];
    const frame = encodeFrame(change.meta, sections, change.peers ?? [], at);
    await writeAll(this.fd, frame, this.journalBytes);
    if (this.options.sync !== 'none') await datasync(this.fd);
    const keys = (change.records ?? []).map((r) => r.path);
    this.apply(
      change.meta,
      sections,
      change.peers ?? [],
      at.map((offset) => location(this.journalBytes + FRAME_HEADER + offset, JOURNAL)),
      keys,
    );
    this.journalBytes += frame.length;
    if (this.journalBytes > Math.max(this.options.compactAfterBytes ?? 64 * 1024 * 1024, this.snapshotBytes)) await this.compact();
  }

  /**
   * `at`: where each record entry of the frame lies in the files; `keys`, when known, the records'
   * paths as the caller holds them (shared rather than decoded again).
   */
  private apply(
    meta: ReplicaMeta | undefined,
    s: FrameSections,
    peers: readonly PeerPosition[],
    at: readonly number[],
    keys?: readonly string[],
  ): void {
    if (meta) this.meta = meta;
    s.records.set.forEach((bytes, i) => {
      const key = keys?.[i] ?? keyOf(bytes);
      // A Map keeps the key it first saw; deleting first keeps the caller's string instead.
      this.records.delete(key);
      this.records.set(key, at[i]!);
    });
    for (const key of s.records.remove) this.records.delete(key);
    applySection(this.needed, s.needed);
    applySection(this.deferred, s.deferred);
    for (const p of peers) this.peers.set(p.peer, p);
  }

  /**
   * A snapshot of the next generation holding only `meta`, then that generation's journal: the
   * rename of the snapshot is the one moment the old state gives way, whole.
   */
  private async replaceAll(meta: ReplicaMeta): Promise<void> {
    if (this.fd === undefined) throw new Error(`state folder ${this.dir} is closed`);
    const next = this.generation + 1;
    const header = fileHeader(next);
    const frame = encodeFrame(meta, EMPTY_SECTIONS, []);
    const bytes = new Uint8Array(header.length + frame.length);
    bytes.set(header);
    bytes.set(frame, header.length);
    await replaceFile(this.file('snapshot'), bytes, { durability: 'file-and-folder', temp: this.file('snapshot.tmp') });
    this.meta = meta;
    this.records.clear();
    this.needed.clear();
    this.deferred.clear();
    this.peers.clear();
    this.snapshotBytes = bytes.length;
    this.startJournal(next);
  }

  /** Writes the whole state as the next generation's snapshot, then starts that generation's journal. */
  private async compact(): Promise<void> {
    const next = this.generation + 1;
    let offset = 0;
    const old = this.sortedLocations();
    const moved = new Float64Array(old.length);
    const writeSnapshot = async (fd: number): Promise<void> => {
      const put = async (bytes: Uint8Array): Promise<void> => {
        await writeAll(fd, bytes, offset);
        offset += bytes.length;
      };
      await put(fileHeader(next));
      await put(encodeFrame(this.meta, EMPTY_SECTIONS, [...this.peers.values()]));
      const writeBatch = async (name: keyof FrameSections, batch: Uint8Array[], first: number): Promise<void> => {
        const at: number[] = [];
        const frame = encodeFrame(undefined, { ...EMPTY_SECTIONS, [name]: { set: batch, remove: [] } }, [], at);
        if (name === 'records') at.forEach((o, i) => (moved[first + i] = location(offset + FRAME_HEADER + o, SNAPSHOT)));
        await put(frame);
      };
      let batch: Uint8Array[] = [];
      let first = 0;
      for (const bytes of this.entriesAt(old, true)) {
        batch.push(bytes);
        if (batch.length === SNAPSHOT_BATCH) {
          await writeBatch('records', batch, first);
          first += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) await writeBatch('records', batch, first);
      for (const [name, map] of [
        ['needed', this.needed],
        ['deferred', this.deferred],
      ] as const) {
        const all = [...map.values()];
        for (let i = 0; i < all.length; i += SNAPSHOT_BATCH) await writeBatch(name, all.slice(i, i + SNAPSHOT_BATCH), 0);
      }
    };
    await replaceFile(this.file('snapshot'), writeSnapshot, { durability: 'file-and-folder', temp: this.file('snapshot.tmp') });
    // Only now do the new places hold: until the rename, a failure leaves the old files in charge.
    for (const [key, was] of this.records) this.records.set(key, moved[binarySearch(old, was)]!);
    this.snapshotBytes = offset;
    this.startJournal(next);
    this.compactions++;
  }

  /** Every record's location, in file order: reading them back is then one pass per file. */
  private sortedLocations(): Float64Array {
    const out = new Float64Array(this.records.size);
    let i = 0;
    for (const loc of this.records.values()) out[i++] = loc;
    return out.sort();
  }

  /**
   * Reads the entries at sorted locations through one window per file, a megabyte at a time.
   * Without `copy`, each entry is a view valid only until the next one is read.
   */
  private *entriesAt(locations: Float64Array, copy: boolean): Generator<Uint8Array> {
    const files = [new FileWindow(this.file('snapshot')), new FileWindow(this.file('journal'))];
    try {
      for (const loc of locations) yield files[loc % 2]!.entryAt(Math.floor(loc / 2), copy);
    } finally {
      for (const f of files) f.close();
    }
  }

  private startJournal(generation: number): void {
    replaceFileSync(this.file('journal'), fileHeader(generation), { durability: 'file-and-folder', temp: this.file('journal.tmp') });
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file('journal'), 'r+');
    this.generation = generation;
    this.journalBytes = HEADER_BYTES;
  }

  // ---- reading ---------------------------------------------------------------------------

  private readFiles(): void {
    const snapshot = this.file('snapshot');
    let generation = 0;
    if (fs.existsSync(snapshot)) {
      const read = readStateFile(snapshot, (payload, at) => this.replay(payload, at, SNAPSHOT));
      if (read.tornAt !== undefined)
        throw new StateCorruptError(snapshot, `a frame at byte ${read.tornAt} is incomplete or fails its checksum`);
      generation = read.generation;
      this.snapshotBytes = read.length;
    }
    const journal = this.file('journal');
    if (fs.existsSync(journal) && fileGeneration(journal) === generation) {
      const read = readStateFile(journal, (payload, at) => this.replay(payload, at, JOURNAL));
      // A torn tail is a commit that never returned: cut it off so the next frame follows the last good one.
      if (read.tornAt !== undefined) fs.truncateSync(journal, read.tornAt);
      this.generation = generation;
      this.journalBytes = read.tornAt ?? read.length;
      this.fd = fs.openSync(journal, 'r+');
    } else {
      // No journal yet, or one a compaction had already folded into the snapshot.
      this.startJournal(generation);
    }
    fs.rmSync(this.file('snapshot.tmp'), { force: true });
    fs.rmSync(this.file('journal.tmp'), { force: true });
  }

  private replay(payload: Uint8Array, at: number, file: number): void {
    const { meta, sections, peers, recordsAt } = decodeFrame(payload);
    this.apply(
      meta,
      sections,
      peers,
      recordsAt.map((offset) => location(at + FRAME_HEADER + offset, file)),
    );
  }

  private file(name: string): string {
    return nodePath.join(this.dir, name);
  }
}

export interface FrameSections {
  readonly records: Section;
  readonly needed: Section;
  readonly deferred: Section;
}

const EMPTY: Section = { set: [], remove: [] };
const EMPTY_SECTIONS: FrameSections = { records: EMPTY, needed: EMPTY, deferred: EMPTY };

const SNAPSHOT = 0;
const JOURNAL = 1;

function location(offset: number, file: number): number {
  return offset * 2 + file;
}

function binarySearch(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function section<T>(items: readonly T[], encode: (item: T) => Uint8Array, remove: readonly string[] = []): Section {
  return { set: items.map(encode), remove };
}

function applySection(map: Map<string, Uint8Array>, s: Section): void {
  for (const bytes of s.set) map.set(keyOf(bytes), bytes);
  for (const key of s.remove) map.delete(key);
}

/** `recordsAt`, when given, receives the payload offset of each record entry plus the frame header. Exported for the fuzzer. */
export function encodeFrame(
  meta: ReplicaMeta | undefined,
  s: FrameSections,
  peers: readonly PeerPosition[],
  recordsAt?: number[],
): Uint8Array {
  const w = new ByteWriter().u8(STATE_FORMAT).u8(meta ? 1 : 0);
  if (meta) writeMeta(w, meta);
  writeSection(w, s.records, recordsAt);
  writeSection(w, s.needed);
  writeSection(w, s.deferred);
  w.varint(peers.length);
  for (const p of peers) writePeer(w, p);
  const payload = w.finish();
  const frame = new Uint8Array(FRAME_HEADER + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32(payload));
  frame.set(payload, FRAME_HEADER);
  return frame;
}

/** One frame's payload, after its CRC passed. Exported for the fuzzer (test/fuzz/targets/state-journal.ts). */
export function decodeFrame(payload: Uint8Array): {
  meta?: ReplicaMeta;
  sections: FrameSections;
  peers: PeerPosition[];
  recordsAt: number[];
} {
  const r = new ByteReader(payload);
  const format = r.u8();
  if (format < OLDEST_STATE_FORMAT || format > STATE_FORMAT)
    throw new Error(`state format ${format} is not known to this version (${STATE_FORMAT})`);
  const meta = readFlag(r, 'meta') ? readMeta(r, format) : undefined;
  // Entries kept in memory are copied out of the file's read buffer, which they must not keep alive.
  const copy = (s: Section): Section => ({ set: s.set.map((b) => b.slice()), remove: s.remove });
  const recordsAt: number[] = [];
  const sections = { records: readSection(r, recordsAt), needed: copy(readSection(r)), deferred: copy(readSection(r)) };
  const peers: PeerPosition[] = [];
  for (let n = r.varint(); n > 0; n--) peers.push(readPeer(r));
  r.end();
  return { ...(meta ? { meta } : {}), sections, peers, recordsAt };
}

/** Reads length-prefixed entries at ascending offsets of one file through a sliding window. */
class FileWindow {
  private fd: number | undefined;
  private buf = new Uint8Array(1024 * 1024);
  private start = 0;
  private end = 0;

  constructor(private readonly path: string) {}

  entryAt(offset: number, copy: boolean): Uint8Array {
    // The prefix is a varint of at most 8 bytes; the entry follows it.
    this.ensure(offset, 8);
    const r = new ByteReader(this.buf.subarray(offset - this.start, this.end - this.start));
    const length = r.varint();
    const from = offset + r.offset;
    this.ensure(from, length);
    const view = this.buf.subarray(from - this.start, from - this.start + length);
    return copy ? view.slice() : view;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private ensure(offset: number, length: number): void {
    if (offset >= this.start && offset + length <= this.end) return;
    this.fd ??= fs.openSync(this.path, 'r');
    if (length > this.buf.length) this.buf = new Uint8Array(length);
    this.start = offset;
    this.end = offset + fs.readSync(this.fd, this.buf, 0, this.buf.length, offset);
    if (this.end < offset + Math.min(length, 1)) throw new StateCorruptError(this.path, `no entry at byte ${offset}`);
  }
}

function fileHeader(generation: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out.set(MAGIC);
  new DataView(out.buffer).setUint32(MAGIC.length, generation);
  return out;
}

function fileGeneration(file: string): number | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const head = new Uint8Array(HEADER_BYTES);
    if (fs.readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return undefined;
    if (!MAGIC.every((b, i) => head[i] === b)) return undefined;
    return new DataView(head.buffer).getUint32(MAGIC.length);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a state file frame by frame with bounded buffers. `tornAt` is the offset of the first
 * frame that is incomplete or fails its CRC (everything from there on is discarded).
 */
function readStateFile(
  file: string,
  onFrame: (payload: Uint8Array, at: number) => void,
): { generation: number; length: number; tornAt?: number } {
  const generation = fileGeneration(file);
  if (generation === undefined) throw new StateCorruptError(file, 'it does not start with a state header');
  const fd = fs.openSync(file, 'r');
  try {
    const length = fs.fstatSync(fd).size;
    let offset = HEADER_BYTES;
    const head = new Uint8Array(FRAME_HEADER);
    // One buffer for every frame, grown as needed: a frame's entries are used before the next is
    // read (onFrame copies what it keeps), and a megabyte allocated per frame was freed memory
    // the process kept.
    let buffer = new Uint8Array(0);
    while (offset < length) {
      if (length - offset < FRAME_HEADER || fs.readSync(fd, head, 0, FRAME_HEADER, offset) !== FRAME_HEADER)
        return { generation, length, tornAt: offset };
      const view = new DataView(head.buffer);
      const size = view.getUint32(0);
      if (size > length - offset - FRAME_HEADER) return { generation, length, tornAt: offset };
      if (size > buffer.length) buffer = new Uint8Array(size);
      const payload = buffer.subarray(0, size);
      if (fs.readSync(fd, payload, 0, size, offset + FRAME_HEADER) !== size || crc32(payload) !== view.getUint32(4)) {
        return { generation, length, tornAt: offset };
      }
      try {
        onFrame(payload, offset);
      } catch (err) {
        throw new StateCorruptError(file, `frame at byte ${offset}: ${(err as Error).message}`);
      }
      offset += FRAME_HEADER + size;
    }
    return { generation, length };
  } finally {
    fs.closeSync(fd);
  }
}

async function writeAll(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.write(fd, bytes, done, bytes.length - done, position + done, (err, written) => (err ? reject(err) : resolve(written))),
    );
    done += n;
  }
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

// ---- the lock: one process per state folder ------------------------------------------------

function takeLock(dir: string): void {
  const lock = nodePath.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    const pid = Number(fs.readFileSync(lock, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new StateLockedError(dir, pid);
    if (pid === process.pid) throw new StateLockedError(dir, pid);
    // The process that held it is gone (killed): the lock is stale.
    fs.rmSync(lock, { force: true });
  }
  throw new Error(`could not lock state folder ${dir}`);
}

function releaseLock(dir: string): void {
  fs.rmSync(nodePath.join(dir, 'lock'), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}
