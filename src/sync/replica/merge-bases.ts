import { equalBytes, toHex } from '../util/bytes';
import { contentHashOf } from '../model/content-hash';
import { isAlive } from '../model/file-record';
import { StoreError, type MergeBase } from '../ports/ports';
import { isMergeableText, MERGE_MAX_BYTES } from '../text/text-merge';
import type { ReplicaCore } from './replica-core';
import type { Transaction } from './transaction';

/**
 * Merge bases: the bytes of small text versions, kept by content hash so that a later conflict on
 * them has the version both sides started from. Kept a few at a time on `tick`, off the scan's
 * path, and dropped once no record refers to them.
 *
 * Which versions are kept, and why each is needed: a merge needs the version both edits started
 * from, and that is the version a file had when it was edited. A user's editor overwrites it in
 * place, so it must be kept before any edit: the current version of every file that can merge
 * (text, valid UTF-8 without NUL, at most `baseMaxSize`), and the ancestor of every record (the
 * version another edit made from the same start merges against). Not kept: bytes no merge takes
 * (binary, not UTF-8, too large), and anything on a replica that never merges (a reader, see
 * `mergesEdits`): the others refuse its versions, so it never settles a conflict. When it may
 * merge again, every current version is looked at anew.
 */
export class MergeBases {
  /** Content hashes (hex) whose bytes the store keeps as merge bases. */
  private readonly kept = new Set<string>();
  /** Set at start and when records change, so the merge-base clean-up skips idle ticks. */
  private mayBeUnused = true;
  /** Paths whose current version may deserve a merge base; kept a few at a time, off the scan's path. */
  private readonly candidates = new Set<string>();
  /** Whether this replica merged conflicts when last asked: once it may again, every path is a candidate. */
  private merging = true;

  constructor(private readonly core: ReplicaCore) {}

  /** Learns which bases the store kept from an earlier run. */
  async load(): Promise<void> {
    for (const b of await this.core.options.store.listBases()) this.kept.add(b);
  }

  has(hash: Uint8Array): boolean {
    return this.kept.has(toHex(hash));
  }

  /**
   * The base's bytes, checked against its hash; undefined (and the base forgotten) when the store
   * lost it or holds other bytes: the conflict then keeps its copy, as without a base.
   */
  async read(hash: Uint8Array): Promise<Uint8Array | undefined> {
    const key = toHex(hash);
    const { store, hasher } = this.core.options;
    let data: Uint8Array | undefined;
    try {
      data = await store.getBase(key);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
    if (data && equalBytes(contentHashOf(data, hasher, this.core.chunking), hash)) return data;
    if (this.kept.delete(key)) await store.dropBases([key]).catch(() => undefined);
    return undefined;
  }

  /** After a commit: the paths it touched may deserve a base, and new records may leave some unused. */
  committed(tx: Transaction, paths: ReadonlySet<string>): void {
    if (tx.records.size > 0) this.mayBeUnused = true;
    for (const path of paths) this.candidates.add(path);
  }

  /** The path's version needs no base (its bytes are not text). */
  skip(path: string): void {
    this.candidates.delete(path);
  }

  /**
   * Saves the bytes of small text versions now on disk, so a later conflict on them has the
   * version both sides started from; runs on `tick`, as does dropping what no record refers to.
   * The bases of one tick go to the store together, in path order: neighbours compress better.
   */
  async keep(): Promise<void> {
    const { core } = this;
    if (!this.mayMerge()) return;
    const max = core.options.baseMaxSize ?? MERGE_MAX_BYTES;
    // A budget per tick: a first scan of a large folder must not read every small file twice at once.
    let budget = 8 * max;
    const batch: MergeBase[] = [];
    const inBatch = new Set<string>();
    const paths = new Map<string, string>();
    for (const path of this.candidates) {
      if (budget <= 0) break;
      this.candidates.delete(path);
      const record = core.index.get(path);
      if (!isAlive(record) || record.type !== 'file' || record.size > max || core.neededMap.has(path)) continue;
      const key = toHex(record.hash);
      if (this.kept.has(key) || inBatch.has(key)) continue;
      let data: Uint8Array;
      budget -= record.size + 4096;
      try {
        data = await core.options.store.read(path, 0, record.size);
      } catch (err) {
        if (err instanceof StoreError) continue;
        throw err;
      }
      if (!isMergeableText(data, max) || !equalBytes(contentHashOf(data, core.options.hasher, core.chunking), record.hash)) continue;
      batch.push({ hash: key, data });
      inBatch.add(key);
      paths.set(key, path);
    }
    if (batch.length === 0) return;
    batch.sort((a, b) => (paths.get(a.hash)! < paths.get(b.hash)! ? -1 : 1));
    try {
      await core.options.store.putBases(batch);
    } catch (err) {
      // A full disk, say: these versions go without a base, and a conflict on them keeps its copy.
      if (err instanceof StoreError) return;
      throw err;
    }
    for (const b of batch) this.kept.add(b.hash);
  }

  /** Asked each tick (a role can change): false while this replica never merges, and then nothing is kept. */
  private mayMerge(): boolean {
    const merging = this.core.options.mergesEdits?.() ?? true;
    if (!merging) {
      this.candidates.clear();
    } else if (!this.merging) {
      for (const r of this.core.index.records()) if (!r.deleted && r.type === 'file') this.candidates.add(r.path);
    }
    this.merging = merging;
    return merging;
  }

  async dropUnused(): Promise<void> {
    if (!this.mayBeUnused || this.kept.size === 0) return;
    this.mayBeUnused = false;
    const used = new Set<string>();
    for (const r of this.core.index.records()) {
      if (r.deleted || r.type !== 'file') continue;
      used.add(toHex(r.hash));
      if (r.ancestor.length > 0) used.add(toHex(r.ancestor));
    }
    const unused = [...this.kept].filter((key) => !used.has(key));
    if (unused.length === 0) return;
    await this.core.options.store.dropBases(unused);
    for (const key of unused) this.kept.delete(key);
  }
}
