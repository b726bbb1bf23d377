import { utf8 } from './bytes';

/** Everything a replica keeps inside the shared folder is named with this prefix. */
export const INTERNAL_PREFIX = '.shared-folder';

export type PathProblemCode =
  | 'empty'
  | 'absolute'
  | 'backslash'
  | 'emptySegment'
  | 'dotSegment'
  | 'controlCharacter'
  | 'notNfc'
  | 'invalidCharacter'
  | 'reservedName'
  | 'trailingDotOrSpace'
  | 'segmentTooLong'
  | 'pathTooLong'
  | 'badUnicode'
  | 'internal';

export class PathError extends Error {
  constructor(
    readonly code: PathProblemCode,
    readonly path: string,
    detail: string,
  ) {
    super(`${JSON.stringify(path)}: ${detail}`);
    this.name = 'PathError';
  }
}

export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

export function utf8Length(text: string): number {
  return utf8(text).length;
}
/** Device names Windows reserves in any directory, with or without an extension. */
const RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])(\..*)?$/i;
const WINDOWS_INVALID = /[<>:"|?*]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks a path that came from a peer or a local scan. Only paths that are relative, stay inside
 * the root and can exist on Linux, macOS and Windows alike pass, so a replica never writes
 * outside its folder and never creates a name another member's disk cannot hold.
 */
export function validatePath(path: string): PathError | undefined {
  const fail = (code: PathProblemCode, detail: string): PathError => new PathError(code, path, detail);
  if (path.length === 0) return fail('empty', 'empty path');
  if (LONE_SURROGATE.test(path)) return fail('badUnicode', 'contains an unpaired surrogate');
  if (CONTROL.test(path)) return fail('controlCharacter', 'contains a control character');
  if (path.includes('\\')) return fail('backslash', 'contains a backslash');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return fail('absolute', 'is absolute');
  if (path !== path.normalize('NFC')) return fail('notNfc', 'is not in Unicode NFC form');
  if (utf8(path).length > MAX_PATH_BYTES) return fail('pathTooLong', `longer than ${MAX_PATH_BYTES} bytes`);
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment.length === 0) return fail('emptySegment', 'has an empty segment');
    if (segment === '.' || segment === '..') return fail('dotSegment', `has a "${segment}" segment`);
    if (WINDOWS_INVALID.test(segment)) return fail('invalidCharacter', 'contains one of < > : " | ? *');
    if (RESERVED.test(segment)) return fail('reservedName', `"${segment}" is a reserved device name on Windows`);
    if (/[. ]$/.test(segment)) return fail('trailingDotOrSpace', `"${segment}" ends in a dot or space`);
    if (utf8(segment).length > MAX_SEGMENT_BYTES) return fail('segmentTooLong', `a name is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  if (isInternalPath(path)) return fail('internal', `names starting with ${INTERNAL_PREFIX} are the replica's own`);
  return undefined;
}

export function assertValidPath(path: string): void {
  const problem = validatePath(path);
  if (problem) throw problem;
}

export function isInternalPath(path: string): boolean {
  const first = path.split('/', 1)[0]!;
  return first.startsWith(INTERNAL_PREFIX);
}

/** The key under which case-insensitive file systems (macOS, Windows) see a path. */
export function foldCase(path: string): string {
  return path.normalize('NFC').toLowerCase().normalize('NFC');
}

/** Live paths by folded key, to find names that would collide on a case-insensitive disk. */
export class CaseIndex {
  private readonly byKey = new Map<string, Set<string>>();

  add(path: string): void {
    const key = foldCase(path);
    const set = this.byKey.get(key) ?? new Set<string>();
    set.add(path);
    this.byKey.set(key, set);
  }

  remove(path: string): void {
    const key = foldCase(path);
    const set = this.byKey.get(key);
    if (!set) return;
    set.delete(path);
    if (set.size === 0) this.byKey.delete(key);
  }

  has(path: string): boolean {
    return this.byKey.get(foldCase(path))?.has(path) ?? false;
  }

  /** Another path that differs from `path` only in case, if any. */
  collision(path: string): string | undefined {
    const set = this.byKey.get(foldCase(path));
    if (!set) return undefined;
    for (const other of set) if (other !== path) return other;
    return undefined;
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

export function depth(path: string): number {
  let n = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

/** Strict and segment-aware: `a` is an ancestor of `a/b`, not of `ab/c` nor of `a`. */
export function isAncestor(ancestor: string, path: string): boolean {
  return path.length > ancestor.length + 1 && path.startsWith(ancestor) && path.charCodeAt(ancestor.length) === 47;
}

/** `archive.tar.gz` -> `archive.tar` + `.gz`; dotfiles like `.bashrc` have no extension. */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}
