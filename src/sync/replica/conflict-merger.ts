import { equalBytes } from '../util/bytes';
import { blocksOf, contentHash, contentHashOf } from '../model/content-hash';
import { isAlive, type FileRecord } from '../model/file-record';
import { merge } from '../model/version-vector';
import { StoreError, type StoreEntry } from '../ports/ports';
import { MERGE_MAX_BYTES } from '../text/text-merge';
import { mergeConflict } from './conflict-merge';
import { entryMatches, expectationFor } from './expectation';
import type { Installer } from './installer';
import type { MergeBases } from './merge-bases';
import type { ReplicaCore } from './replica-core';
import type { VersionIntegrator } from './version-integrator';

/**
 * Settles the text conflicts this replica resolved by writing the three-way merge of both edits
 * (the bytes come from `mergeConflict`) as a new version that supersedes both, and deleting the
 * conflict copy.
 */
export class ConflictMerger {
  constructor(
    private readonly core: ReplicaCore,
    private readonly versions: VersionIntegrator,
    private readonly bases: MergeBases,
    private readonly installer: Installer,
  ) {}

  /**
   * Settles the conflicts this replica resolved by merging the two edits, once both versions are
   * on its disk. Only a replica that resolved a conflict (it holds the loser's bytes) merges it,
   * as only it made the copy; if several did, they write the same bytes (the merge is
   * deterministic), and equal content is never a conflict. Each is tried once: a conflict that
   * does not merge stays as it is, winner and copy.
   */
  async mergeConflicts(): Promise<void> {
    const { core } = this;
    if (core.mergeCandidates.size === 0 || core.stopped || core.meta.paused) return;
    // Asked each time: a role can change, and may be unknown for a moment.
    if (!(core.options.mergesEdits?.() ?? true)) return;
    for (const [copyPath, path] of [...core.mergeCandidates]) {
      if (core.neededMap.has(path) || core.neededMap.has(copyPath)) continue;
      if (!(await core.checkRoot())) return;
      core.mergeCandidates.delete(copyPath);
      await this.mergeOne(path, copyPath);
    }
  }

  /**
   * Writes the merge of the file at `path` and its conflict copy as a new version of the path
   * that supersedes both, then deletes the copy (its bytes go to the versions folder, as with any
   * deletion). The merged file is on disk before any record names it: a crash in between leaves
   * it as a local edit next to the copy, which the next scan records; nothing is lost.
   */
  private async mergeOne(path: string, copyPath: string): Promise<void> {
    const { core, versions } = this;
    const winner = core.index.get(path);
    const loser = core.index.get(copyPath);
    if (!isAlive(winner) || !isAlive(loser) || winner.type !== 'file' || loser.type !== 'file') return;
    // Both edits must have started from one version this replica kept; an edit of either since
    // (the user took one side, say) has another ancestor, and the conflict is the user's now.
    if (winner.ancestor.length === 0 || !equalBytes(winner.ancestor, loser.ancestor) || winner.executable !== loser.executable) return;
    const max = core.options.baseMaxSize ?? MERGE_MAX_BYTES;
    if (winner.size > max || loser.size > max || !this.bases.has(winner.ancestor)) return;
    const { store, hasher } = core.options;
    const base = await this.bases.read(winner.ancestor);
    const ours = await this.readVersion(winner);
    const theirs = await this.readVersion(loser);
    if (!base || !ours || !theirs) return;
    const merged = mergeConflict(base, ours, theirs, max);
    if (!merged) return;
    const blocks = blocksOf(merged, hasher, core.chunking);
    const temp = await store.createTemp(path, merged.length);
    let written: StoreEntry;
    try {
      await temp.write(0, merged);
      const meta = { mtime: core.now(), executable: winner.executable };
      await store.sealTemp(temp, meta);
      // Only over exactly what was read: a user's edit since then wins, and the conflict stays.
      const [result] = await store.commitTemps([{ temp, path, expect: expectationFor(winner), meta }]);
      if (result instanceof StoreError) throw result;
      written = result!;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      await store.discardTemp(temp);
      return;
    }
    const tx = core.begin();
    const record: FileRecord = {
      path,
      type: 'file',
      deleted: false,
      size: merged.length,
      mtime: written.mtime,
      executable: winner.executable,
      hash: contentHash(blocks, hasher),
      blocks,
      target: '',
      version: versions.issueVersion(tx, merge(winner.version, loser.version)),
      modifiedBy: core.options.user,
      // Another edit made from the same version still merges with this one.
      ancestor: winner.ancestor,
      sequence: 0,
      ...(written.inode !== 0 ? { inode: written.inode } : {}),
    };
    versions.place(tx, record, record, true);
    versions.place(tx, versions.bareVersion(tx, copyPath, 'file', true, loser.version, loser.hash), loser, true);
    await core.commit(tx);
    core.emit({ kind: 'merged', path, copyPath, record: core.index.get(path)!, winner, loser });
    await this.installer.applyOne(copyPath);
  }

  /** A version's bytes as this disk holds them, only if they still are exactly that version. */
  private async readVersion(record: FileRecord): Promise<Uint8Array | undefined> {
    const { store, hasher } = this.core.options;
    try {
      const entry = await store.stat(record.path);
      if (!entry || !entryMatches(record, entry)) return undefined;
      const data = await store.read(record.path, 0, record.size);
      return data.length === record.size && equalBytes(contentHashOf(data, hasher, this.core.chunking), record.hash) ? data : undefined;
    } catch (err) {
      if (err instanceof StoreError) return undefined;
      throw err;
    }
  }
}
