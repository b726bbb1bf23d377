import { StoreError, type StoreErrorCode } from '../../sync/ports/ports';

const CODES: Readonly<Record<string, StoreErrorCode>> = {
  ENOENT: 'notFound',
  ENOTDIR: 'notFound',
  ENOTEMPTY: 'notEmpty',
  EEXIST: 'changed',
  ENOSPC: 'noSpace',
  EDQUOT: 'noSpace',
  EFBIG: 'noSpace',
  EACCES: 'permission',
  EPERM: 'permission',
  EROFS: 'permission',
  EBUSY: 'locked',
  ETXTBSY: 'locked',
  EAGAIN: 'locked',
  ENAMETOOLONG: 'nameTooLong',
};

const MESSAGES: Readonly<Record<StoreErrorCode, string>> = {
  changed: 'changed on disk meanwhile',
  notFound: 'not found',
  notEmpty: 'folder is not empty',
  noSpace: 'the disk is full',
  permission: 'permission denied',
  locked: 'the file is locked by another program',
  nameTooLong: 'the path is too long for this file system',
  io: 'input/output error',
};

export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** A file system error as the engine understands it: one of its codes, with a message a user can act on. */
export function toStoreError(err: unknown, path: string): StoreError {
  if (err instanceof StoreError) return err;
  const errno = errnoOf(err);
  const code: StoreErrorCode = (errno === undefined ? undefined : CODES[errno]) ?? 'io';
  const detail = errno ? ` (${errno})` : err instanceof Error ? ` (${err.message})` : '';
  return new StoreError(code, path, `${path}: ${MESSAGES[code]}${detail}`);
}

/** Runs a file system step and reports its failure as a StoreError for `path`. */
export async function onDisk<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw toStoreError(err, path);
  }
}
