import { toHex } from './bytes';
import { blockOffsets, type FileRecord } from './file-record';
import { CaseIndex } from './path';
import type { Hasher } from './ports';
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
  /** Sequence -> path; a Map iterates in insertion order, and sequences only grow. */
  private bySequence = new Map<number, string>();
  private highestSequence = 0;
  /** Set when a record arrived below the highest sequence, so insertion order is not sequence order. */
  private unordered = false;
  private readonly caseIndex = new CaseIndex();
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
    if (old) {
      this.digest.remove(old);
      this.bySequence.delete(old.sequence);
      if (isLiveFile(old)) this.liveFileCount--;
    }
    if (isLiveFile(record)) this.liveFileCount++;
    this.byPath.set(record.path, record);
    this.bySequence.set(record.sequence, record.path);
    if (record.sequence < this.highestSequence) this.unordered = true;
    else this.highestSequence = record.sequence;
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
    this.bySequence.delete(old.sequence);
    this.byPath.delete(path);
    this.caseIndex.remove(path);
  }

  /** Records with sequence > after, ascending: batch ranges depend on it. */
  *since(after: number): IterableIterator<FileRecord> {
    if (this.unordered) {
      this.bySequence = new Map([...this.bySequence].sort((a, b) => a[0] - b[0]));
      this.unordered = false;
    }
    for (const [seq, path] of this.bySequence) {
      if (seq > after) yield this.byPath.get(path)!;
    }
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

function isLiveFile(record: FileRecord): boolean {
  return !record.deleted && record.type === 'file';
}

/** Maps block hashes to places on the local disk that hold them, for reuse without transfer. */
export class BlockLocator {
  private readonly sources = new Map<string, BlockSource[]>();

  add(record: FileRecord): void {
    if (record.deleted || record.type !== 'file') return;
    const offsets = blockOffsets(record.blocks);
    record.blocks.forEach((b, i) => {
      const key = toHex(b.hash);
      const list = this.sources.get(key) ?? [];
      list.push({ path: record.path, offset: offsets[i]!, size: b.size });
      this.sources.set(key, list);
    });
  }

  remove(record: FileRecord): void {
    if (record.deleted || record.type !== 'file') return;
    for (const b of record.blocks) {
      const key = toHex(b.hash);
      const list = this.sources.get(key);
      if (!list) continue;
      const kept = list.filter((s) => s.path !== record.path);
      if (kept.length > 0) this.sources.set(key, kept);
      else this.sources.delete(key);
    }
  }

  find(hash: Uint8Array): readonly BlockSource[] {
    return this.sources.get(toHex(hash)) ?? [];
  }
}
