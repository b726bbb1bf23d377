import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { PeerPosition, PersistedState, ReplicaMeta, StateChange, StateStore } from '../sync/ports';
import { ByteReader, ByteWriter } from '../sync/protocol/wire';
import { crc32 } from './crc32';
import { errnoOf } from './disk-errors';
import {
  decodeDeferred,
  decodeNeeded,
  decodeStateRecord,
  encodeDeferred,
  encodeNeeded,
  encodeStateRecord,
  keyOf,
  readMeta,
  readPeer,
  readSection,
  STATE_FORMAT,
  writeMeta,
  writePeer,
  writeSection,
  type Section,
} from './state-codec';

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
 * crash hits. Entries are held encoded, a few hundred bytes each, not as objects.
 */
export class StateJournal implements StateStore {
  private meta: ReplicaMeta | undefined;
  private readonly records = new Map<string, Uint8Array>();
  private readonly needed = new Map<string, Uint8Array>();
  private readonly deferred = new Map<string, Uint8Array>();
  private readonly peers = new Map<string, PeerPosition>();
  private generation = 0;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private compactions = 0;
  private fd: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

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
    return { journalBytes: this.journalBytes, snapshotBytes: this.snapshotBytes, compactions: this.compactions, generation: this.generation };
  }

  async load(): Promise<PersistedState | undefined> {
    if (!this.meta) return undefined;
    return {
      meta: this.meta,
      records: [...this.records.values()].map(decodeStateRecord),
      needed: [...this.needed.values()].map(decodeNeeded),
      deferred: [...this.deferred.values()].map(decodeDeferred),
      peers: [...this.peers.values()],
    };
  }

  commit(change: StateChange): Promise<void> {
    const run = this.queue.then(() => this.append(change));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
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
    const frame = encodeFrame(change.meta, sections, change.peers ?? []);
    await writeAll(this.fd, frame, this.journalBytes);
    if (this.options.sync !== 'none') await datasync(this.fd);
    this.journalBytes += frame.length;
    this.apply(change.meta, sections, change.peers ?? []);
    if (this.journalBytes > Math.max(this.options.compactAfterBytes ?? 64 * 1024 * 1024, this.snapshotBytes)) await this.compact();
  }

  private apply(meta: ReplicaMeta | undefined, s: FrameSections, peers: readonly PeerPosition[]): void {
    if (meta) this.meta = meta;
    applySection(this.records, s.records);
    applySection(this.needed, s.needed);
    applySection(this.deferred, s.deferred);
    for (const p of peers) this.peers.set(p.peer, p);
  }

  /** Writes the whole state as the next generation's snapshot, then starts that generation's journal. */
  private async compact(): Promise<void> {
    const next = this.generation + 1;
    const tmp = this.file('snapshot.tmp');
    const fd = fs.openSync(tmp, 'w');
    let offset = 0;
    try {
      const put = async (bytes: Uint8Array): Promise<void> => {
        await writeAll(fd, bytes, offset);
        offset += bytes.length;
      };
      await put(fileHeader(next));
      await put(encodeFrame(this.meta, { records: EMPTY, needed: EMPTY, deferred: EMPTY }, [...this.peers.values()]));
      for (const [name, map] of [['records', this.records], ['needed', this.needed], ['deferred', this.deferred]] as const) {
        let batch: Uint8Array[] = [];
        for (const bytes of map.values()) {
          batch.push(bytes);
          if (batch.length === SNAPSHOT_BATCH) {
            await put(encodeFrame(undefined, { ...EMPTY_SECTIONS, [name]: { set: batch, remove: [] } }, []));
            batch = [];
          }
        }
        if (batch.length > 0) await put(encodeFrame(undefined, { ...EMPTY_SECTIONS, [name]: { set: batch, remove: [] } }, []));
      }
      await datasync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file('snapshot'));
    syncDir(this.dir);
    this.snapshotBytes = offset;
    this.startJournal(next);
    this.compactions++;
  }

  private startJournal(generation: number): void {
    const tmp = this.file('journal.tmp');
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, fileHeader(generation));
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file('journal'));
    syncDir(this.dir);
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
      const read = readStateFile(snapshot, (payload) => this.replay(payload));
      if (read.tornAt !== undefined) throw new StateCorruptError(snapshot, `a frame at byte ${read.tornAt} is incomplete or fails its checksum`);
      generation = read.generation;
      this.snapshotBytes = read.length;
    }
    const journal = this.file('journal');
    if (fs.existsSync(journal) && fileGeneration(journal) === generation) {
      const read = readStateFile(journal, (payload) => this.replay(payload));
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

  private replay(payload: Uint8Array): void {
    const { meta, sections, peers } = decodeFrame(payload);
    this.apply(meta, sections, peers);
  }

  private file(name: string): string {
    return nodePath.join(this.dir, name);
  }
}

interface FrameSections {
  readonly records: Section;
  readonly needed: Section;
  readonly deferred: Section;
}

const EMPTY: Section = { set: [], remove: [] };
const EMPTY_SECTIONS: FrameSections = { records: EMPTY, needed: EMPTY, deferred: EMPTY };

function section<T>(items: readonly T[], encode: (item: T) => Uint8Array, remove: readonly string[] = []): Section {
  return { set: items.map(encode), remove };
}

function applySection(map: Map<string, Uint8Array>, s: Section): void {
  for (const bytes of s.set) map.set(keyOf(bytes), bytes);
  for (const key of s.remove) map.delete(key);
}

function encodeFrame(meta: ReplicaMeta | undefined, s: FrameSections, peers: readonly PeerPosition[]): Uint8Array {
  const w = new ByteWriter().u8(STATE_FORMAT).u8(meta ? 1 : 0);
  if (meta) writeMeta(w, meta);
  writeSection(w, s.records);
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

function decodeFrame(payload: Uint8Array): { meta?: ReplicaMeta; sections: FrameSections; peers: PeerPosition[] } {
  const r = new ByteReader(payload);
  const format = r.u8();
  if (format !== STATE_FORMAT) throw new Error(`state format ${format} is not known to this version (${STATE_FORMAT})`);
  const meta = r.u8() === 1 ? readMeta(r) : undefined;
  // Entries are copied out of the file's read buffer, which they must not keep alive.
  const copy = (s: Section): Section => ({ set: s.set.map((b) => b.slice()), remove: s.remove });
  const sections = { records: copy(readSection(r)), needed: copy(readSection(r)), deferred: copy(readSection(r)) };
  const peers: PeerPosition[] = [];
  for (let n = r.varint(); n > 0; n--) peers.push(readPeer(r));
  r.end();
  return { ...(meta ? { meta } : {}), sections, peers };
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
function readStateFile(file: string, onFrame: (payload: Uint8Array) => void): { generation: number; length: number; tornAt?: number } {
  const generation = fileGeneration(file);
  if (generation === undefined) throw new StateCorruptError(file, 'it does not start with a state header');
  const fd = fs.openSync(file, 'r');
  try {
    const length = fs.fstatSync(fd).size;
    let offset = HEADER_BYTES;
    const head = new Uint8Array(FRAME_HEADER);
    while (offset < length) {
      if (length - offset < FRAME_HEADER || fs.readSync(fd, head, 0, FRAME_HEADER, offset) !== FRAME_HEADER) return { generation, length, tornAt: offset };
      const view = new DataView(head.buffer);
      const size = view.getUint32(0);
      if (size > length - offset - FRAME_HEADER) return { generation, length, tornAt: offset };
      const payload = new Uint8Array(size);
      if (fs.readSync(fd, payload, 0, size, offset + FRAME_HEADER) !== size || crc32(payload) !== view.getUint32(4)) {
        return { generation, length, tornAt: offset };
      }
      try {
        onFrame(payload);
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

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems cannot sync a directory.
  }
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
