import { equalBytes } from '../util/bytes';
import type { FileRecord } from '../model/file-record';
import { CaseIndex } from '../model/path';
import type { Hasher } from '../ports/hasher';
import { IndexDigest } from './summary';

/** Where a block's bytes can be read locally. */
export interface BlockSource {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

/**
 * A replica's records by path, kept in sequence order for delta exchange, with the lookups the
 * engine needs on every step: live paths by case-folded name and block hash to local location.
 */
export class LocalIndex {
  private readonly byPath = new Map<string, FileRecord>();
  /**
   * Records in sequence order, for delta exchange, including replaced ones (`stale` of them)
   * until the next compaction: an array of references costs a fraction of a map per record.
   */
  private ordered: FileRecord[] = [];
  private stale = 0;
  /** Set when a record arrived below the highest sequence, so `ordered` needs sorting. */
  private unordered = false;
  private readonly caseIndex = new CaseIndex((path) => !(this.byPath.get(path)?.deleted ?? true));
  private liveFileCount = 0;
  private readonly digest: IndexDigest;

  constructor(hasher: Hasher) {
    this.digest = new IndexDigest(hasher, () => this.byPath.values());
  }

  /** Files that are not tombstones, kept as records come and go: the mass-delete guard asks on every scan. */
  get liveFiles(): number {
    return this.liveFileCount;
  }

  get size(): number {
    return this.byPath.size;
  }

  get(path: string): FileRecord | undefined {
    return this.byPath.get(path);
  }

  records(): IterableIterator<FileRecord> {
    return this.byPath.values();
  }

  set(record: FileRecord): void {
    const old = this.byPath.get(record.path);
    if (old === record) return;
    if (old) {
      this.digest.remove(old, record);
      if (isLiveFile(old)) this.liveFileCount--;
    }
    if (isLiveFile(record)) this.liveFileCount++;
    this.byPath.set(record.path, record);
    this.placeInOrder(old, record);
    this.digest.add(record);
    if (!record.deleted) this.caseIndex.add(record.path);
    else this.caseIndex.remove(record.path);
  }

  /** Drops a record entirely (tombstone expiry). */
  delete(path: string): void {
    const old = this.byPath.get(path);
    if (!old) return;
    if (isLiveFile(old)) this.liveFileCount--;
    this.digest.remove(old);
    this.byPath.delete(path);
    this.stale++;
    this.caseIndex.remove(path);
  }

  /** Records with sequence > after, ascending: batch ranges depend on it. */
  *since(after: number): IterableIterator<FileRecord> {
    if (this.unordered || this.stale > this.ordered.length / 2) {
      this.ordered = this.ordered.filter((r) => this.byPath.get(r.path) === r);
      if (this.unordered) this.ordered.sort((a, b) => a.sequence - b.sequence);
      this.unordered = false;
      this.stale = 0;
    }
    for (let i = firstAbove(this.ordered, after); i < this.ordered.length; i++) {
      const r = this.ordered[i]!;
      if (this.byPath.get(r.path) === r) yield r;
    }
  }

  /** A record kept with its sequence (only local facts changed) takes the old one's place. */
  private placeInOrder(old: FileRecord | undefined, record: FileRecord): void {
    if (old && old.sequence === record.sequence && !this.unordered) {
      for (
        let i = firstAbove(this.ordered, record.sequence - 1);
        i < this.ordered.length && this.ordered[i]!.sequence === record.sequence;
        i++
      ) {
        if (this.ordered[i] === old) {
          this.ordered[i] = record;
          return;
        }
      }
    }
    if (old) this.stale++;
    const last = this.ordered[this.ordered.length - 1];
    if (last && record.sequence < last.sequence) this.unordered = true;
    this.ordered.push(record);
  }

  caseCollision(path: string): string | undefined {
    const other = this.caseIndex.collision(path);
    return other !== undefined && other !== path ? other : undefined;
  }

  summary(): Uint8Array {
    return this.digest.summary();
  }

  get vector(): IndexDigest['vector'] {
    return this.digest.vector;
  }

  /** Live paths strictly below `path`. */
  liveDescendants(path: string): FileRecord[] {
    const prefix = path + '/';
    const out: FileRecord[] = [];
    for (const r of this.byPath.values()) if (!r.deleted && r.path.startsWith(prefix)) out.push(r);
    return out;
  }
}

/** Index of the first record with a sequence above `after` in a sorted array. */
function firstAbove(sorted: readonly FileRecord[], after: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.sequence <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isLiveFile(record: FileRecord): boolean {
  return !record.deleted && record.type === 'file';
}

/** Maps block hashes to places on the local disk that hold them, for reuse without transfer. */
export class BlockLocator {
  /**
   * The hash's first 31 bits to the paths of the files holding such a block. Offsets
   * are worked out from the file's record when asked: an object per block, or a hex key per
   * block, was most of a large index's memory.
   */
  private readonly paths = new Map<number, string | string[]>();

  /** `onDisk` tells what the local disk holds at a path. */
  constructor(private readonly onDisk: (path: string) => FileRecord | undefined) {}

  add(record: FileRecord): void {
    if (record.deleted || record.type !== 'file') return;
    for (const b of record.blocks) {
      const key = prefixKey(b.hash);
      const held = this.paths.get(key);
      if (held === undefined) this.paths.set(key, record.path);
      else if (held === record.path) continue;
      else if (typeof held === 'string') this.paths.set(key, [held, record.path]);
      else if (!held.includes(record.path)) held.push(record.path);
    }
  }

  remove(record: FileRecord): void {
    if (record.deleted || record.type !== 'file') return;
    for (const b of record.blocks) {
      const key = prefixKey(b.hash);
      const held = this.paths.get(key);
      if (held === undefined) continue;
      if (typeof held === 'string') {
        if (held === record.path) this.paths.delete(key);
        continue;
      }
      const kept = held.filter((p) => p !== record.path);
      this.paths.set(key, kept.length === 1 ? kept[0]! : kept);
    }
  }

  find(hash: Uint8Array): BlockSource[] {
    const held = this.paths.get(prefixKey(hash));
    if (held === undefined) return [];
    const out: BlockSource[] = [];
    for (const path of typeof held === 'string' ? [held] : held) {
      const record = this.onDisk(path);
      if (!record || record.deleted || record.type !== 'file') continue;
      let offset = 0;
      for (const b of record.blocks) {
        if (equalBytes(b.hash, hash)) out.push({ path, offset, size: b.size });
        offset += b.size;
      }
    }
    return out;
  }
}

/** The hash's first 31 bits: a small integer, which V8 keeps in the map without a heap number. */
function prefixKey(hash: Uint8Array): number {
  return ((hash[0]! << 23) | (hash[1]! << 15) | (hash[2]! << 7) | (hash[3]! >>> 1)) >>> 0;
}
