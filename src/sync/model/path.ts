/**
 * Path safety. Every path the engine handles is relative to the shared folder's root,
 * `/`-separated and NFC. Paths arrive from untrusted peers and from local scans, so before one is
 * written to disk it must be shown to stay inside the root and to be a name every member's disk
 * (Linux, macOS, Windows) can hold.
 */

/** Everything a replica keeps inside the shared folder is named with this prefix. */
export const INTERNAL_PREFIX = '.shared-folder';

export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

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

/** Longest stretch of the offending path quoted in a message, so a hostile 1 MB path stays readable. */
const MESSAGE_PATH_CHARS = 120;

export class PathError extends Error {
  constructor(
    readonly code: PathProblemCode,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`invalid path ${quote(path)}: ${detail}`);
    this.name = 'PathError';
  }
}

/** JSON escapes control characters and lone surrogates, so the message itself is always printable. */
function quote(path: string): string {
  if (path.length <= MESSAGE_PATH_CHARS) return JSON.stringify(path);
  return `${JSON.stringify(path.slice(0, MESSAGE_PATH_CHARS))}... (${path.length} chars)`;
}

/**
 * Device names Windows reserves in every directory, case-insensitively, also with an extension
 * (`con.txt`) and with spaces before it (`con .txt`, Windows trims them). The superscript digits
 * are accepted as COM/LPT numbers by Windows too. CONIN$/CONOUT$ open the console the same way.
 */
const RESERVED_NAME = /^(?:con|prn|aux|nul|conin\$|conout\$|com[1-9¹²³]|lpt[1-9¹²³]) *(?:\..*)?$/i;
/** Characters Windows refuses in names (control characters are checked separately). */
const WINDOWS_INVALID = /[<>:"|?*]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** `C:`, `c:/x`, and drive-relative `c:x` all name a place outside the root on Windows. */
const DRIVE = /^[A-Za-z]:/;
const TRAILING_DOT_OR_SPACE = /[. ]$/;
// eslint-disable-next-line no-control-regex
const ASCII = /^[\u0000-\u007f]*$/;

/**
 * Checks a path that came from a peer or a local scan, without throwing. Only paths that are
 * relative, stay inside the root and can exist on Linux, macOS and Windows alike pass, so a
 * replica never writes outside its folder and never creates a name another member's disk cannot
 * hold. Whole-path problems are checked before per-segment ones; the first problem found wins.
 */
export function validatePath(path: string): PathError | undefined {
  const fail = (code: PathProblemCode, detail: string): PathError => new PathError(code, path, detail);
  if (path.length === 0) return fail('empty', 'the path is empty');
  // First, because every later check (and normalize, and UTF-8 lengths) assumes well-formed text.
  if (LONE_SURROGATE.test(path)) return fail('badUnicode', 'contains an unpaired UTF-16 surrogate');
  if (CONTROL.test(path)) return fail('controlCharacter', 'contains a control character (U+0000-U+001F or U+007F)');
  // Before the backslash check: `\\server\share` and `C:\x` are better described as absolute.
  if (path.startsWith('/') || path.startsWith('\\') || DRIVE.test(path)) {
    return fail('absolute', 'is absolute; paths must be relative to the shared folder');
  }
  if (path.includes('\\')) return fail('backslash', 'contains a backslash; the separator is "/"');
  // ASCII is always NFC; skipping normalize keeps scans of large trees cheap.
  if (!ASCII.test(path) && path !== path.normalize('NFC')) return fail('notNfc', 'is not in Unicode NFC form');
  if (utf8Length(path) > MAX_PATH_BYTES) return fail('pathTooLong', `is longer than ${MAX_PATH_BYTES} UTF-8 bytes`);
  for (const segment of path.split('/')) {
    const problem = segmentProblem(segment);
    if (problem) return fail(problem[0], problem[1]);
  }
  if (isInternalPath(path)) return fail('internal', `names starting with "${INTERNAL_PREFIX}" belong to the replica itself`);
  return undefined;
}

/** One name between separators; the caller has already ruled out whole-path problems. */
function segmentProblem(segment: string): [PathProblemCode, string] | undefined {
  if (segment.length === 0) return ['emptySegment', 'has an empty segment ("//", or a leading or trailing "/")'];
  if (segment === '.' || segment === '..') return ['dotSegment', `has a "${segment}" segment`];
  if (WINDOWS_INVALID.test(segment)) return ['invalidCharacter', `${JSON.stringify(segment)} contains one of < > : " | ? *`];
  if (RESERVED_NAME.test(segment)) return ['reservedName', `${JSON.stringify(segment)} is a reserved device name on Windows`];
  // Windows silently strips these, so `a.` and `a` would be the same file there.
  if (TRAILING_DOT_OR_SPACE.test(segment)) return ['trailingDotOrSpace', `${JSON.stringify(segment)} ends in a dot or space`];
  if (utf8Length(segment) > MAX_SEGMENT_BYTES) {
    return ['segmentTooLong', `a name is longer than ${MAX_SEGMENT_BYTES} UTF-8 bytes`];
  }
  return undefined;
}

/** Like validatePath, for callers that cannot continue with a bad path. */
export function assertValidPath(path: string): void {
  const problem = validatePath(path);
  if (problem) throw problem;
}

/**
 * Counts UTF-8 bytes without allocating (paths are checked on every scan). A lone surrogate
 * counts 3 bytes, as TextEncoder would write U+FFFD for it.
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Code points HFS+ ignores when it compares names, so `.shared\u200c-folder` is the internal
 * folder there (the trick behind git's CVE-2014-9390).
 */
export const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;
/** The 8.3 short alias Windows may give `.shared-folder` (`SHARED~1`), which opens the same folder. */
const INTERNAL_SHORT_NAME = /^shared~[0-9]+$/;

/**
 * Whether the path is inside (or is) the replica's own folder. The first segment is compared the
 * way a case-insensitive disk would, since `.Shared-Folder/x` lands in the same place there.
 */
export function isInternalPath(path: string): boolean {
  const slash = path.indexOf('/');
  const first = foldCase(slash < 0 ? path : path.slice(0, slash)).replace(HFS_IGNORABLE, '');
  return first.startsWith(INTERNAL_PREFIX) || INTERNAL_SHORT_NAME.test(first);
}

/**
 * The key under which case-insensitive file systems (macOS, Windows) see a path. A simple
 * Unicode case fold per code point, independent of locale: each character goes through its
 * uppercase and back to lowercase, so variants that differ from the usual lowercase still meet
 * (`ς`/`σ`/`Σ`, `ſ`/`s`, `µ`/`μ`, `ẞ`/`ß`, Kelvin sign/`k`). One-to-many mappings (`ß` -> `SS`)
 * are not applied: neither NTFS nor APFS treats `Straße` and `STRASSE` as one name. Working per
 * character also avoids toLowerCase's context rule for final sigma. NFD first and NFC last make
 * canonically equivalent spellings fold alike, as in Unicode's canonical caseless match.
 */
export function foldCase(path: string): string {
  if (ASCII.test(path)) return path.toLowerCase();
  let out = '';
  for (const ch of path.normalize('NFD')) out += foldChar(ch);
  return out.normalize('NFC');
}

function foldChar(ch: string): string {
  const upper = ch.toUpperCase();
  const base = isOneCodePoint(upper) ? upper : ch;
  const lower = base.toLowerCase();
  return isOneCodePoint(lower) ? lower : base;
}

function isOneCodePoint(text: string): boolean {
  return text.length === 1 || (text.length === 2 && (text.codePointAt(0) ?? 0) > 0xffff);
}

/**
 * Live paths by folded key, to find names that would collide on a case-insensitive disk. Adding
 * a path that is already present, or removing one that is absent, changes nothing.
 */
export class CaseIndex {
  /** The path itself while it is alone under its key (nearly always), a list in insertion order otherwise. */
  private readonly byKey = new Map<string, string | string[]>();

  /**
   * With `isLive`, paths that are their own key (most real paths: lowercase ASCII) are not
   * stored; the owner, which holds every live path anyway, answers for them. A million-path
   * index then needs no second map of a million entries.
   */
  constructor(private readonly isLive?: (path: string) => boolean) {}

  add(path: string): void {
    const key = foldCase(path);
    if (this.isLive && key === path) return;
    const held = this.byKey.get(key);
    if (held === undefined) this.byKey.set(key, path);
    else if (typeof held === 'string') {
      if (held !== path) this.byKey.set(key, [held, path]);
    } else if (!held.includes(path)) held.push(path);
  }

  remove(path: string): void {
    const key = foldCase(path);
    const held = this.byKey.get(key);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === path) this.byKey.delete(key);
      return;
    }
    const kept = held.filter((p) => p !== path);
    this.byKey.set(key, kept.length === 1 ? kept[0]! : kept);
  }

  has(path: string): boolean {
    const key = foldCase(path);
    if (this.isLive && key === path) return this.isLive(path);
    const held = this.byKey.get(key);
    return held === path || (Array.isArray(held) && held.includes(path));
  }

  /**
   * A live path that differs from `path` but folds to the same key, if any. With several, the
   * one that is its own key, else the one added first, so the answer depends only on the live
   * paths and the order of operations.
   */
  collision(path: string): string | undefined {
    const key = foldCase(path);
    if (this.isLive && key !== path && this.isLive(key)) return key;
    const held = this.byKey.get(key);
    if (held === undefined || held === path) return undefined;
    if (typeof held === 'string') return held;
    return held.find((p) => p !== path);
  }
}

/** The containing folder; '' (the root) for a top-level path. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The last segment. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `name` inside `parent`, where '' is the root. */
export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

const SLASH = 47;

/** Number of segments: 1 for a top-level path, 0 for the root ''. */
export function depth(path: string): number {
  if (path === '') return 0;
  let n = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === SLASH) n++;
  return n;
}

/**
 * Strict and segment-aware: `a` is an ancestor of `a/b`, not of `ab/c` nor of `a`. The root ''
 * is an ancestor of every other path.
 */
export function isAncestor(ancestor: string, path: string): boolean {
  if (ancestor === '') return path !== '';
  return path.length > ancestor.length + 1 && path.charCodeAt(ancestor.length) === SLASH && path.startsWith(ancestor);
}

/**
 * `archive.tar.gz` -> `archive.tar` + `.gz`; the extension keeps its dot. Names made of leading
 * dots and a word (`.bashrc`, `..x`) have none, and neither does a name ending in a dot.
 */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || dot === name.length - 1 || /^\.*$/.test(name.slice(0, dot))) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}
