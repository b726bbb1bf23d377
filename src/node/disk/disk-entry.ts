import type { BigIntStats } from 'node:fs';
import type { EntryType } from '../../sync/model/file-record';
import type { StoreEntry } from '../../sync/ports/ports';

const NS_PER_MS = 1_000_000n;

/** The engine's view of one lstat result; undefined for what a folder cannot share (sockets, devices, fifos). */
export function entryFromStats(path: string, st: BigIntStats, readTarget: () => string): StoreEntry | undefined {
  const type: EntryType | undefined = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : undefined;
  if (type === undefined) return undefined;
  return {
    path,
    type,
    size: type === 'file' ? Number(st.size) : 0,
    // Whole milliseconds from the nanosecond field: mtimeMs is a float that can land a hair below.
    mtime: Number(st.mtimeNs / NS_PER_MS),
    executable: type === 'file' && (Number(st.mode) & 0o100) !== 0,
    inode: Number(st.ino),
    ...(type === 'symlink' ? { target: readTarget() } : {}),
  };
}

/**
 * Seconds for utimes that read back as exactly `ms` milliseconds: the half-millisecond keeps the
 * float's rounding error from landing below the intended millisecond.
 */
export function utimesSeconds(ms: number): number {
  return (ms + 0.5) / 1000;
}
