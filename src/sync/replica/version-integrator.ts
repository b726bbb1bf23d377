import { equalBytes, utf8 } from '../util/bytes';
import { isAlive, NO_HASH, sameContent, type EntryType, type FileRecord } from '../model/file-record';
import { reconcile } from '../model/reconcile';
import { EMPTY_VECTOR, nextCounter, withCounter, type VersionVector } from '../model/version-vector';
import type { ContentDigest, StoreEntry } from '../ports/ports';
import { entryMatches } from './expectation';
import type { ReplicaCore } from './replica-core';
import type { Transaction } from './transaction';

/**
 * Brings versions into the index: a peer's, the user's own as a scan observes them on disk, or a
 * conflict copy; resolves conflicts between them and notes what the disk has to catch up with.
 */
export class VersionIntegrator {
  constructor(private readonly core: ReplicaCore) {}

  /**
   * Brings one version (from a peer, from the local disk, or a conflict copy) into the index.
   * `disk` is what is on disk at the path after the event that produced the version; `local`
   * says the version is the user's own, observed on this disk.
   *
   * A conflict is resolved only by a replica that holds the losing content on its own disk, so
   * the conflict copy it publishes can always be fetched from it. A replica without the loser's
   * bytes leaves the conflict to the one that has them: that replica will receive our version
   * and resolve it, and its merged record then supersedes both.
   */
  integrate(tx: Transaction, incoming: FileRecord, disk: FileRecord | undefined, local = false): void {
    const current = tx.record(incoming.path);
    const decision = reconcile(current, incoming);
    if (decision.kind === 'ignore') {
      if (disk !== this.core.diskRecord(tx, incoming.path) && current) this.place(tx, current, disk, false);
      return;
    }
    const copy = decision.kind === 'conflict' ? decision.copy : undefined;
    if (copy && !this.holdsContent(tx, copy, disk)) {
      // Judge again once the disk changes. The user's own edit is recorded meanwhile: it stands
      // as their version, and the version it displaced waits.
      if (local) {
        if (current) tx.setDeferred(current);
        this.place(tx, incoming, disk, true);
      } else {
        tx.setDeferred(incoming);
      }
      return;
    }
    this.place(tx, decision.record, disk, true);
    if (decision.kind === 'conflict') {
      if (copy) {
        this.integrate(tx, copy, this.core.diskRecord(tx, copy.path));
        this.core.mergeCandidates.set(copy.path, incoming.path);
      }
      const base = current && current.ancestor.length > 0 && equalBytes(current.ancestor, incoming.ancestor) ? current.ancestor : undefined;
      this.core.emit({
        kind: 'conflict',
        path: incoming.path,
        winner: decision.record,
        loser: decision.loser,
        ...(copy ? { copyPath: copy.path } : {}),
        ...(base ? { base } : {}),
      });
    }
  }

  /** Whether this replica's disk has the copy's content, at the copy's path or at the original. */
  private holdsContent(tx: Transaction, copy: FileRecord, diskAtOriginal: FileRecord | undefined): boolean {
    const atCopy = this.core.diskRecord(tx, copy.path);
    return (diskAtOriginal !== undefined && sameContent(diskAtOriginal, copy)) || (atCopy !== undefined && sameContent(atCopy, copy));
  }

  /** Sets the record for a path and notes whether the disk still has to catch up with it. */
  place(tx: Transaction, record: FileRecord, disk: FileRecord | undefined, isNewVersion: boolean): void {
    const stored = isNewVersion ? tx.setRecord(record) : record;
    if (needsWrite(stored, disk)) tx.setNeeded({ path: record.path, ...(disk ? { onDisk: disk } : {}) });
    else if (tx.needed(record.path)) tx.clearNeeded(record.path);
  }

  /**
   * A peer holds a version claiming this replica's counter `claimed`, above any it issued: forged,
   * and taken by members who cannot tell it from a genuine one. Counters issued from now on pass
   * it, and the version held here at `path` is issued again with one of them, so it beats the
   * forged one wherever that went (or makes a conflict, which keeps both contents).
   */
  outbid(tx: Transaction, path: string, claimed: number): void {
    tx.meta = { ...tx.meta, counter: Math.max(tx.meta.counter, claimed) };
    const current = tx.record(path);
    if (current) this.place(tx, { ...current, version: this.issueVersion(tx, current.version) }, this.core.diskRecord(tx, path), true);
  }

  issueVersion(tx: Transaction, base: VersionVector): VersionVector {
    const counter = nextCounter(tx.meta.counter, this.core.now());
    tx.meta = { ...tx.meta, counter };
    return withCounter(base, this.core.meta.indexId, counter);
  }

  directoryRecord(tx: Transaction, path: string, base: VersionVector): FileRecord {
    return this.bareVersion(tx, path, 'directory', false, base);
  }

  /** A new local version without content: a directory, or a tombstone stamped with the time of deletion. */
  bareVersion(tx: Transaction, path: string, type: EntryType, deleted: boolean, base: VersionVector, ancestor = NO_HASH): FileRecord {
    return {
      path,
      type,
      deleted,
      size: 0,
      mtime: deleted ? this.core.now() : 0,
      executable: false,
      hash: NO_HASH,
      blocks: [],
      target: '',
      version: this.issueVersion(tx, base),
      modifiedBy: this.core.options.user,
      ancestor,
      sequence: 0,
    };
  }

  /**
   * Compares one path on disk with what the engine believes is there and records a change.
   * `digest` is the file's content when the caller already read it.
   */
  async observe(tx: Transaction, path: string, entry: StoreEntry | undefined, digest?: ContentDigest): Promise<void> {
    const need = tx.needed(path);
    const record = tx.record(path);
    const expected = need ? need.onDisk : isAlive(record) ? record : undefined;
    const base = need ? (need.onDisk?.version ?? EMPTY_VECTOR) : (record?.version ?? EMPTY_VECTOR);
    if (entry === undefined) {
      if (!expected) return;
      this.integrate(tx, this.bareVersion(tx, path, expected.type, true, base, expected.hash), undefined, true);
      return;
    }
    if (expected && entryMatches(expected, entry)) return;
    const content = digest ?? (await this.readContent(entry));
    if (content === undefined) return; // changing under us; the next scan sees it settled
    if (expected && sameOnDisk(expected, entry, content.hash)) {
      // Replaced by identical bytes with the same size and mtime: nothing to version, only the inode to remember.
      this.noteInode(tx, path, entry.inode);
      return;
    }
    const version = this.issueVersion(tx, base);
    const observed: FileRecord = {
      path,
      type: entry.type,
      deleted: false,
      size: entry.type === 'file' ? entry.size : 0,
      mtime: entry.type === 'directory' ? 0 : entry.mtime,
      executable: entry.type === 'file' && entry.executable,
      hash: content.hash,
      blocks: content.blocks,
      target: entry.target ?? '',
      version,
      modifiedBy: this.core.options.user,
      ancestor: expected?.hash ?? NO_HASH,
      sequence: 0,
      ...(entry.type === 'file' && entry.inode !== 0 ? { inode: entry.inode } : {}),
    };
    this.integrate(tx, observed, observed, true);
  }

  /** Remembers where a version now lives on this disk; a local fact that makes no new version. */
  noteInode(tx: Transaction, path: string, inode: number): void {
    if (inode === 0) return;
    const need = tx.needed(path);
    if (need?.onDisk) {
      tx.setNeeded({ ...need, onDisk: { ...need.onDisk, inode } });
      return;
    }
    const record = tx.record(path);
    if (isAlive(record) && record.type === 'file' && record.inode !== inode) tx.keepRecord({ ...record, inode });
  }

  private async readContent(entry: StoreEntry): Promise<ContentDigest | undefined> {
    if (entry.type === 'directory') return { hash: NO_HASH, blocks: [] };
    if (entry.type === 'symlink') return { hash: this.core.options.hasher.sha256(utf8(entry.target ?? '')), blocks: [] };
    return this.core.digester.digest({ path: entry.path }, entry.size, this.core.chunking);
  }
}

function needsWrite(record: FileRecord, disk: FileRecord | undefined): boolean {
  if (record.deleted) return disk !== undefined;
  if (!disk || disk.type !== record.type) return true;
  switch (record.type) {
    case 'directory':
      return false;
    case 'symlink':
      return disk.target !== record.target;
    case 'file':
      return (
        !equalBytes(disk.hash, record.hash) ||
        disk.size !== record.size ||
        disk.mtime !== record.mtime ||
        disk.executable !== record.executable
      );
  }
}

/** Same bytes, size, mtime and mode as the record: only the inode differs. */
function sameOnDisk(expected: FileRecord, entry: StoreEntry, hash: Uint8Array): boolean {
  return (
    entry.type === 'file' &&
    expected.type === 'file' &&
    equalBytes(expected.hash, hash) &&
    expected.size === entry.size &&
    expected.mtime === entry.mtime &&
    expected.executable === entry.executable
  );
}
