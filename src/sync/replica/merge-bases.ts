import { equalBytes, toHex } from '../util/bytes';
import { contentHashOf } from '../model/content-hash';
import { isAlive } from '../model/file-record';
import { StoreError } from '../ports/ports';
import { MERGE_MAX_BYTES } from '../text/text-merge';
import type { ReplicaCore } from './replica-core';
import type { Transaction } from './transaction';

/**
 * Merge bases: the bytes of small text versions, kept by content hash so that a later conflict on
 * them has the version both sides started from. Kept a few at a time on `tick`, off the scan's
 * path, and dropped once no record refers to them.
 */
export class MergeBases {
  /** Content hashes (hex) whose bytes the store keeps as merge bases. */
  private readonly kept = new Set<string>();
  /** Set at start and when records change, so the merge-base clean-up skips idle ticks. */
  private mayBeUnused = true;
  /** Paths whose current version may deserve a merge base; kept a few at a time, off the scan's path. */
  private readonly candidates = new Set<string>();

  constructor(private readonly core: ReplicaCore) {}

  /** Learns which bases the store kept from an earlier run. */
  async load(): Promise<void> {
    for (const b of await this.core.options.store.listBases()) this.kept.add(b);
  }

  has(hash: Uint8Array): boolean {
    return this.kept.has(toHex(hash));
  }

  read(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.core.options.store.getBase(toHex(hash));
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
   */
  async keep(): Promise<void> {
    const { core } = this;
    const max = core.options.baseMaxSize ?? MERGE_MAX_BYTES;
    // A budget per tick: a first scan of a large folder must not read every small file twice at once.
    let budget = 8 * max;
    for (const path of this.candidates) {
      if (budget <= 0) break;
      this.candidates.delete(path);
      const record = core.index.get(path);
      if (!isAlive(record) || record.type !== 'file' || record.size > max || core.neededMap.has(path)) continue;
      const key = toHex(record.hash);
      if (this.kept.has(key)) continue;
      let data: Uint8Array;
      budget -= record.size + 4096;
      try {
        data = await core.options.store.read(path, 0, record.size);
      } catch (err) {
        if (err instanceof StoreError) continue;
        throw err;
      }
      if (data.includes(0) || !equalBytes(contentHashOf(data, core.options.hasher, core.chunking), record.hash)) continue;
      await core.options.store.putBase(key, data);
      this.kept.add(key);
    }
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
    for (const key of [...this.kept]) {
      if (used.has(key)) continue;
      await this.core.options.store.dropBase(key);
      this.kept.delete(key);
    }
  }
}
