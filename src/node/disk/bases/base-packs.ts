import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { StoreError, type MergeBase } from '../../../sync/ports/ports';
import { SerialQueue } from '../../../sync/util/serial-queue';
import { concatBytes, equalBytes } from '../../../sync/util/bytes';
import { toStoreError } from '../disk-errors';
import { fsyncDirectory } from '../durable-write';
import { CHUNK_PREFIX, decodeChunkHeader, encodeChunkHeader, headerLengthOf, payloadIntact, type ChunkEntry } from './base-chunk';

const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** The first bytes of every pack file. */
export const PACK_MAGIC = new TextEncoder().encode('SFBASES1');
const PACK_NAME = /^(\d{6,})\.pack$/;
/** A base kept by an older version, one file per base named by its content hash. */
const LOOSE_BASE = /^[0-9a-f]{64}$/;
/** A header is read with this many bytes at once: one read for a chunk of up to 1,800 bases. */
const HEADER_READ = 64 * 1024;

export interface BasePacksOptions {
  /**
   * Bytes of bases gathered into one chunk before it is compressed (2 MiB). Larger chunks
   * compress better (on a node_modules tree: 1 MiB 9.2% of the folder, 2 MiB 8.7%), and a read
   * decompresses one whole chunk, a few milliseconds at this size.
   */
  readonly chunkBytes?: number;
  /** A pack that reached this size takes no more chunks; the next one starts (64 MiB). */
  readonly packBytes?: number;
  /** Brotli quality, 0 to 11 (5; on the same tree 9 took four times as long for 0.8 points less). */
  readonly quality?: number;
}

interface Pack {
  readonly number: number;
  readonly file: string;
  size: number;
  /** Bytes no live base needs: dropped bases' share of their chunks, copies kept elsewhere, and anything unreadable. */
  dead: number;
  /** Chunks may be appended: the file ends with a whole chunk. */
  writable: boolean;
  readonly chunks: Chunk[];
}

interface Chunk {
  readonly pack: Pack;
  /** The chunk's offset in its pack. */
  readonly at: number;
  readonly headerBytes: number;
  readonly payloadLength: number;
  readonly payloadCrc: number;
  /** Bytes of its bases, uncompressed. */
  readonly rawLength: number;
  /** Content hashes (hex) of its bases, in order. */
  readonly keys: readonly string[];
}

interface Entry {
  readonly chunk: Chunk;
  /** Where the base starts in its chunk's uncompressed bytes. */
  readonly offset: number;
  readonly length: number;
  /** Dropped, but still readable where it is: kept again without a write if asked for. */
  live: boolean;
}

export interface BasePacksUsage {
  readonly packs: number;
  /** Bytes of the pack files. */
  readonly bytes: number;
  /** Of those, bytes no live base needs (what compaction gives back). */
  readonly deadBytes: number;
  readonly bases: number;
}

/** A base to keep: its bytes, by content hash (hex). */
export type BaseToKeep = MergeBase;

/**
 * Merge bases on disk: compressed in chunks appended to a few pack files, one copy per content
 * hash. Only what the packs say is trusted: opening walks every pack's chunk headers (no index
 * file to keep in step), a chunk cut short by a crash ends what is read of its pack (new chunks
 * then go to a new pack), and a chunk whose bytes fail their checksum is forgotten when read.
 * A base lost that way is a merge that becomes a conflict copy, never an error.
 *
 * Dropping marks a base dead in memory only: after a restart it is listed again until the
 * engine drops it again (it drops what no record needs after every start). A pack more than half
 * dead is compacted: its live bases are written to a new pack (temp file, fsync, rename), then
 * it is deleted. A crash in between leaves both, and the newer copy wins on the next open.
 *
 * Bases kept by older versions, one file per base, are moved into the packs on open.
 */
export class BasePacks {
  private readonly entries = new Map<string, Entry>();
  private readonly packs: Pack[] = [];
  private readonly queue = new SerialQueue();
  private readonly chunkBytes: number;
  private readonly packBytes: number;
  private readonly quality: number;
  private lastNumber = 0;

  private constructor(
    readonly dir: string,
    options: BasePacksOptions,
  ) {
    this.chunkBytes = options.chunkBytes ?? 2 * 1024 * 1024;
    this.packBytes = options.packBytes ?? 64 * 1024 * 1024;
    this.quality = options.quality ?? 5;
  }

  static async open(dir: string, options: BasePacksOptions = {}): Promise<BasePacks> {
    const packs = new BasePacks(dir, options);
    let names: string[] = [];
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      names = await fs.promises.readdir(dir);
    } catch {
      // A folder that cannot be used: no bases, and keeping one fails (quietly: a base only helps a merge).
    }
    const numbers: number[] = [];
    const loose: string[] = [];
    for (const name of names) {
      const m = PACK_NAME.exec(name);
      if (m) numbers.push(Number(m[1]));
      else if (LOOSE_BASE.test(name)) loose.push(name);
      // A compaction a crash interrupted: its pack was never renamed into place.
      else if (name.endsWith('.pack.tmp')) await fs.promises.rm(nodePath.join(dir, name), { force: true }).catch(() => undefined);
    }
    // Newest first: where a compaction left two copies of a base, the newer is the one kept.
    numbers.sort((a, b) => b - a);
    packs.lastNumber = numbers[0] ?? 0;
    for (const n of numbers) await packs.scan(n);
    packs.packs.sort((a, b) => a.number - b.number);
    if (loose.length > 0) await packs.migrate(loose);
    packs.compactLater();
    return packs;
  }

  /** Content hashes (hex) of the bases kept. */
  list(): string[] {
    const out: string[] = [];
    for (const [key, e] of this.entries) if (e.live) out.push(key);
    return out;
  }

  has(hash: string): boolean {
    return this.entries.get(hash)?.live === true;
  }

  /**
   * Keeps these bases; one already kept is not written again. They are compressed together in
   * the order given (give related texts side by side: they compress better together), and
   * appended without waiting for the disk: a base lost to a power cut only costs a merge.
   */
  put(bases: readonly BaseToKeep[]): Promise<void> {
    return this.queue.run(async () => {
      const fresh: BaseToKeep[] = [];
      const seen = new Set<string>();
      for (const b of bases) {
        checkKey(b.hash);
        if (seen.has(b.hash)) continue;
        seen.add(b.hash);
        const e = this.entries.get(b.hash);
        if (e?.live === false) this.revive(e);
        else if (!e) fresh.push(b);
      }
      let group: BaseToKeep[] = [];
      let bytes = 0;
      for (const b of fresh) {
        group.push(b);
        bytes += b.data.length;
        if (bytes >= this.chunkBytes) {
          await this.append(group);
          group = [];
          bytes = 0;
        }
      }
      if (group.length > 0) await this.append(group);
    });
  }

  /** A base's bytes, or undefined if it is not kept or can no longer be read whole (its chunk is then forgotten). */
  get(hash: string): Promise<Uint8Array | undefined> {
    return this.queue.run(async () => {
      const e = this.entries.get(hash);
      if (!e?.live) return undefined;
      const raw = await this.readChunk(e.chunk);
      return raw?.slice(e.offset, e.offset + e.length);
    });
  }

  /**
   * Forgets these bases (until a restart, see the class comment). A pack now more than half dead
   * is compacted after, on the same queue: the caller (the engine's tick) does not wait for it,
   * and a read or write that comes meanwhile waits behind it.
   */
  drop(hashes: readonly string[]): Promise<void> {
    return this.queue.run(() => {
      for (const hash of hashes) {
        const e = this.entries.get(hash);
        if (!e?.live) continue;
        e.live = false;
        e.chunk.pack.dead += shareOf(e);
      }
      this.compactLater();
    });
  }

  usage(): BasePacksUsage {
    let bytes = 0;
    let deadBytes = 0;
    for (const p of this.packs) {
      bytes += p.size;
      deadBytes += p.dead;
    }
    return { packs: this.packs.length, bytes, deadBytes: Math.round(deadBytes), bases: this.list().length };
  }

  /** Resolves once every operation queued so far is done. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // ---- reading a pack ----------------------------------------------------------------------

  /** Learns a pack's chunks from their headers, up to the first one that is not whole. */
  private async scan(number: number): Promise<void> {
    const file = this.fileOf(number);
    const pack: Pack = { number, file, size: 0, dead: 0, writable: false, chunks: [] };
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch {
      // Left as it is and never written to (new packs get higher numbers); its bases are not kept.
      return;
    }
    let at = 0;
    try {
      pack.size = (await handle.stat()).size;
      const magic = await readAt(handle, 0, PACK_MAGIC.length);
      if (equalBytes(magic, PACK_MAGIC)) at = PACK_MAGIC.length;
      while (at > 0 && at + CHUNK_PREFIX <= pack.size) {
        let bytes = await readAt(handle, at, Math.min(HEADER_READ, pack.size - at));
        const h = headerLengthOf(bytes);
        if (h === undefined || at + CHUNK_PREFIX + h > pack.size) break;
        if (bytes.length < CHUNK_PREFIX + h) bytes = await readAt(handle, at, CHUNK_PREFIX + h);
        const header = decodeChunkHeader(bytes);
        if (!header) break;
        const end = at + header.headerBytes + header.payloadLength;
        if (end > pack.size) break;
        this.index(pack, at, header.headerBytes, header.payloadLength, header.payloadCrc, header.entries);
        at = end;
      }
    } catch {
      // Unreadable from here on: what was read stands; the rest is dead.
    } finally {
      await handle.close();
    }
    const end = Math.max(at, 0);
    pack.dead += pack.size - end;
    pack.writable = at > 0 && end === pack.size;
    this.packs.push(pack);
  }

  /** Adds a chunk's bases to the index; a base already indexed (a newer copy) makes this one dead. */
  private index(
    pack: Pack,
    at: number,
    headerBytes: number,
    payloadLength: number,
    payloadCrc: number,
    entries: readonly ChunkEntry[],
  ): Chunk {
    const keys = entries.map((e) => Buffer.from(e.hash).toString('hex'));
    const rawLength = entries.reduce((n, e) => n + e.length, 0);
    const chunk: Chunk = { pack, at, headerBytes, payloadLength, payloadCrc, rawLength, keys };
    pack.chunks.push(chunk);
    let offset = 0;
    entries.forEach((e, i) => {
      const entry: Entry = { chunk, offset, length: e.length, live: true };
      offset += e.length;
      const key = keys[i]!;
      if (this.entries.has(key)) pack.dead += shareOf(entry);
      else this.entries.set(key, entry);
    });
    return chunk;
  }

  /** A chunk's bases, uncompressed; undefined (and the chunk forgotten) if it cannot be read whole. */
  private async readChunk(chunk: Chunk): Promise<Uint8Array | undefined> {
    try {
      const handle = await fs.promises.open(chunk.pack.file, 'r');
      let payload: Uint8Array;
      try {
        payload = await readAt(handle, chunk.at + chunk.headerBytes, chunk.payloadLength);
      } finally {
        await handle.close();
      }
      if (payloadIntact(chunk, payload)) {
        const raw = await brotliDecompress(payload, { maxOutputLength: Math.max(chunk.rawLength, 1) });
        if (raw.length === chunk.rawLength) return bytesOf(raw);
      }
    } catch {
      // A missing pack, a read error, or bytes brotli refuses: as broken as a failed checksum.
    }
    this.forget(chunk);
    return undefined;
  }

  /** Stops relying on a chunk that could not be read: its bases are no longer kept, and its bytes are dead. */
  private forget(chunk: Chunk): void {
    for (const key of chunk.keys) {
      const e = this.entries.get(key);
      if (e?.chunk !== chunk) continue;
      if (e.live) chunk.pack.dead += shareOf(e);
      this.entries.delete(key);
    }
  }

  private revive(e: Entry): void {
    e.live = true;
    e.chunk.pack.dead -= shareOf(e);
  }

  // ---- writing -----------------------------------------------------------------------------

  /** Compresses bases into one chunk and appends it to the pack that takes chunks now. */
  private async append(group: readonly BaseToKeep[]): Promise<void> {
    const { header, payload, entries } = await this.compress(group);
    let pack: Pack | undefined;
    try {
      pack = await this.appendablePack();
      const handle = await fs.promises.open(pack.file, 'r+');
      try {
        await writeAt(handle, concatBytes([header, payload]), pack.size);
      } finally {
        await handle.close();
      }
    } catch (err) {
      // What the file ends with is unknown now: the next chunk goes to a new pack.
      if (pack) pack.writable = false;
      throw toStoreError(err, this.dir);
    }
    const at = pack.size;
    pack.size = at + header.length + payload.length;
    this.index(pack, at, header.length, payload.length, crcOf(header), entries);
  }

  private async compress(group: readonly BaseToKeep[]): Promise<{ header: Uint8Array; payload: Uint8Array; entries: ChunkEntry[] }> {
    const raw = concatBytes(group.map((b) => b.data));
    const payload = bytesOf(
      await brotliCompress(raw, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: this.quality,
          [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      }),
    );
    const entries = group.map((b) => ({ hash: bytesOf(Buffer.from(b.hash, 'hex')), length: b.data.length }));
    return { header: encodeChunkHeader(entries, payload), payload, entries };
  }

  /** The newest pack if it takes chunks and has room, else a new, empty one. */
  private async appendablePack(): Promise<Pack> {
    const last = this.packs[this.packs.length - 1];
    if (last && last.writable && last.size < this.packBytes) return last;
    const number = ++this.lastNumber;
    const file = this.fileOf(number);
    await fs.promises.writeFile(file, PACK_MAGIC, { flag: 'wx' });
    const pack: Pack = { number, file, size: PACK_MAGIC.length, dead: 0, writable: true, chunks: [] };
    this.packs.push(pack);
    return pack;
  }

  private fileOf(number: number): string {
    return nodePath.join(this.dir, `${String(number).padStart(6, '0')}.pack`);
  }

  // ---- compaction --------------------------------------------------------------------------

  private compactLater(): void {
    if (this.packs.some(worthCompacting)) void this.queue.run(() => this.compactWhereWorth()).catch(() => undefined);
  }

  private async compactWhereWorth(): Promise<void> {
    for (const pack of [...this.packs]) {
      if (!worthCompacting(pack)) continue;
      try {
        await this.compact(pack);
      } catch {
        // A full disk, say: the pack stays as it is, every base in it still readable.
      }
    }
  }

  /**
   * Writes a pack's live bases to a new pack, whole (temp file, fsync, rename, folder fsync),
   * then deletes the old one. Bases are regrouped into full chunks in their old order.
   */
  private async compact(pack: Pack): Promise<void> {
    const number = ++this.lastNumber;
    const file = this.fileOf(number);
    const temp = `${file}.tmp`;
    const fresh: Pack = { number, file, size: 0, dead: 0, writable: true, chunks: [] };
    const written: { at: number; header: Uint8Array; payload: Uint8Array; entries: ChunkEntry[] }[] = [];
    const handle = await fs.promises.open(temp, 'w');
    try {
      await writeAt(handle, PACK_MAGIC, 0);
      fresh.size = PACK_MAGIC.length;
      let group: BaseToKeep[] = [];
      let bytes = 0;
      const flush = async (): Promise<void> => {
        const c = await this.compress(group);
        await writeAt(handle, concatBytes([c.header, c.payload]), fresh.size);
        written.push({ at: fresh.size, ...c });
        fresh.size += c.header.length + c.payload.length;
        group = [];
        bytes = 0;
      };
      for (const chunk of pack.chunks) {
        const live = chunk.keys.filter((k) => {
          const e = this.entries.get(k);
          return e?.chunk === chunk && e.live;
        });
        if (live.length === 0) continue;
        const raw = await this.readChunk(chunk);
        if (!raw) continue;
        for (const key of live) {
          const e = this.entries.get(key)!;
          group.push({ hash: key, data: raw.subarray(e.offset, e.offset + e.length) });
          bytes += e.length;
          if (bytes >= this.chunkBytes) await flush();
        }
      }
      if (group.length > 0) await flush();
      await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.promises.rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    if (written.length > 0) {
      await fs.promises.rename(temp, file);
      await fsyncDirectory(this.dir);
    } else {
      await fs.promises.rm(temp, { force: true });
    }
    // The new copies are on the disk: from here on they are the ones read.
    for (const key of pack.chunks.flatMap((c) => c.keys)) {
      const e = this.entries.get(key);
      if (e?.chunk.pack === pack) this.entries.delete(key);
    }
    this.packs.splice(this.packs.indexOf(pack), 1);
    if (written.length > 0) {
      this.packs.push(fresh);
      for (const w of written) this.index(fresh, w.at, w.header.length, w.payload.length, crcOf(w.header), w.entries);
    }
    await fs.promises.rm(pack.file, { force: true });
  }

  // ---- bases of older versions -------------------------------------------------------------

  /**
   * Moves bases kept one file per base into the packs: read, appended, the packs fsynced, and
   * only then the files removed. A crash in between leaves some in both places; the next open
   * moves the rest, and a base already in a pack is not written twice.
   */
  private async migrate(names: readonly string[]): Promise<void> {
    const moved: string[] = [];
    try {
      let batch: BaseToKeep[] = [];
      let bytes = 0;
      for (const name of [...names].sort()) {
        let data: Uint8Array;
        try {
          data = bytesOf(await fs.promises.readFile(nodePath.join(this.dir, name)));
        } catch {
          continue;
        }
        batch.push({ hash: name, data });
        bytes += data.length;
        if (bytes < 4 * this.chunkBytes) continue;
        await this.put(batch);
        moved.push(...batch.map((x) => x.hash));
        batch = [];
        bytes = 0;
      }
      await this.put(batch);
      moved.push(...batch.map((x) => x.hash));
      for (const pack of this.packs) {
        const handle = await fs.promises.open(pack.file, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
    } catch {
      // A full disk, say: every loose file stays where it is, for the next open to move.
      return;
    }
    for (const name of moved) await fs.promises.rm(nodePath.join(this.dir, name), { force: true }).catch(() => undefined);
  }
}

/** More than half of it is dead: rewriting the rest gives back more than it costs. */
function worthCompacting(pack: Pack): boolean {
  return pack.dead * 2 > pack.size;
}

function checkKey(hash: string): void {
  if (!LOOSE_BASE.test(hash)) throw new StoreError('io', hash, `not a content hash: ${hash}`);
}

/** A base's part of its chunk's bytes on disk, by its part of the chunk's uncompressed bytes. */
function shareOf(e: Entry): number {
  const { chunk } = e;
  const total = chunk.headerBytes + chunk.payloadLength;
  return chunk.rawLength > 0 ? (total * e.length) / chunk.rawLength : total / chunk.keys.length;
}

function crcOf(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, header.length).getUint32(16, true);
}

async function readAt(handle: fs.promises.FileHandle, at: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, at + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? out : out.subarray(0, done);
}

async function writeAt(handle: fs.promises.FileHandle, data: Uint8Array, at: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, at + done);
    done += bytesWritten;
  }
}

function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
