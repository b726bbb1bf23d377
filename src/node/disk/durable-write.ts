import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';

/**
 * How much of a replaced file survives a power cut. At every level the file is replaced whole (a
 * temp file in the same folder renamed over it), so a reader or a killed process sees the old
 * content or the new, never part of either.
 * - 'none': nothing waits for the disk; after a power cut the file may hold the old content or none.
 * - 'file': the content is on the disk before the rename; after a power cut, the old or the new whole.
 * - 'file-and-folder': the rename is on the disk too; once the write returns, the new content stays.
 */
export type Durability = 'none' | 'file' | 'file-and-folder';

export interface ReplaceOptions {
  readonly durability: Durability;
  /** The new file's permissions (less the umask); 0o644 by default. */
  readonly mode?: number;
  /** The temp file's path, in the target's folder: a fixed name lets its owner remove one a crash left. A unique name by default. */
  readonly temp?: string;
}

/** Replaces `file` with `data`, synchronously. */
export function replaceFileSync(file: string, data: string | Uint8Array, options: ReplaceOptions): void {
  const temp = options.temp ?? tempNameFor(file);
  try {
    const fd = fs.openSync(temp, 'w', options.mode ?? 0o644);
    try {
      fs.writeFileSync(fd, data);
      if (options.durability !== 'none') fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  if (options.durability === 'file-and-folder') fsyncDirectorySync(nodePath.dirname(file));
}

/** Replaces `file` with `data`, or with what `write` writes through the temp file's descriptor (for content too large to hold at once). */
export async function replaceFile(
  file: string,
  data: Uint8Array | ((fd: number) => Promise<void>),
  options: ReplaceOptions,
): Promise<void> {
  const temp = options.temp ?? tempNameFor(file);
  try {
    const handle = await fs.promises.open(temp, 'w', options.mode ?? 0o644);
    try {
      if (typeof data === 'function') await data(handle.fd);
      else await handle.writeFile(data);
      if (options.durability !== 'none') await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
  if (options.durability === 'file-and-folder') await fsyncDirectory(nodePath.dirname(file));
}

/**
 * Replaces a small file whose content must survive a power cut whole: identities, lists of
 * spaces, trust pins. No folder sync: after a power cut the old content is an acceptable outcome.
 */
export function writeAtomic(file: string, text: string | Uint8Array, mode = 0o644): void {
  replaceFileSync(file, text, { durability: 'file', mode });
}

/**
 * Replaces a file that is rewritten often and worthless after a power cut (the status a daemon
 * writes twice a second): a reader sees the old or the new text whole, but nothing waits for
 * the disk. An fsync there cost the daemon's event loop milliseconds every half second.
 */
export function writeReplacing(file: string, text: string): void {
  replaceFileSync(file, text, { durability: 'none' });
}

/** Makes a rename, creation or removal in `dir` durable; some file systems cannot sync a directory, which is fine. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on file systems without directory fsync.
  } finally {
    await handle?.close();
  }
}

/** `fsyncDirectory`, synchronously. */
export function fsyncDirectorySync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // EISDIR/EINVAL/EPERM on file systems without directory fsync.
  }
}

function tempNameFor(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}
