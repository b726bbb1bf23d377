import type { FileRecord } from '../model/file-record';
import type { Expectation, StoreEntry } from '../ports/ports';

/** The expectation that lets a store refuse to overwrite something the engine has not seen. */
export function expectationFor(onDisk: FileRecord | undefined): Expectation {
  if (onDisk === undefined || onDisk.deleted) return { kind: 'absent' };
  if (onDisk.type === 'directory') return { kind: 'directory' };
  return onDisk.type === 'symlink'
    ? { kind: 'entry', type: 'symlink', size: onDisk.size, mtime: onDisk.mtime, target: onDisk.target }
    : { kind: 'entry', type: 'file', size: onDisk.size, mtime: onDisk.mtime };
}

/** Whether a store entry still is what the record describes, without reading its content. */
export function entryMatches(record: FileRecord, entry: StoreEntry): boolean {
  if (record.deleted || record.type !== entry.type) return false;
  switch (entry.type) {
    case 'directory':
      return true;
    case 'symlink':
      return record.target === entry.target;
    case 'file':
      return (
        record.size === entry.size && record.mtime === entry.mtime && record.executable === entry.executable && sameInode(record, entry)
      );
  }
}

/** A replaced file has a new inode even when size and mtime were kept; 0 or unknown matches anything. */
function sameInode(record: FileRecord, entry: StoreEntry): boolean {
  return record.inode === undefined || record.inode === 0 || entry.inode === 0 || record.inode === entry.inode;
}

export function entryMatchesExpectation(entry: StoreEntry | undefined, expect: Expectation): boolean {
  switch (expect.kind) {
    case 'any':
      return true;
    case 'absent':
      return entry === undefined;
    case 'directory':
      return entry?.type === 'directory';
    case 'entry':
      if (entry === undefined || entry.type !== expect.type) return false;
      // A symlink is its target; its own timestamps are not portable.
      if (entry.type === 'symlink') return entry.target === expect.target;
      return entry.size === expect.size && entry.mtime === expect.mtime && (expect.target === undefined || entry.target === expect.target);
  }
}
