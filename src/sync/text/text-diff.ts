import DiffMatchPatch from 'diff-match-patch';

/** `before.slice(start, end)` was replaced by `text`. Offsets are UTF-16 code units of `before`. */
export interface TextHunk {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Replaced stretches up to this many UTF-16 units on each side are diffed character by character. */
export const CHAR_DIFF_LIMIT = 8 * 1024;
/** Line differences past which two texts count as rewritten whole (and a merge as a conflict). */
export const MAX_LINE_EDITS = 2000;

/** `a.slice(aStart, aEnd)` became `b.slice(bStart, bEnd)`, in lines. */
interface LineRegion {
  readonly aStart: number;
  readonly aEnd: number;
  readonly bStart: number;
  readonly bEnd: number;
}

/** Lines with their terminators, so that joining them gives the text back. */
function splitLines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/**
 * The shortest line edit script between `a` and `b` (Myers' greedy O((N+M)D) search, keeping each
 * step's frontier to walk back), as regions of replaced lines; undefined past `maxEdits`
 * differences. Bounded by that count, not by a clock, so every replica gets the same answer.
 */
function lineRegions(a: readonly number[], b: readonly number[], maxEdits: number): LineRegion[] | undefined {
  const n = a.length;
  const m = b.length;
  const frontiers: Int32Array[] = [];
  // frontier[k + d] for diagonal k in -d..d: the furthest x reached with d edits.
  let previous = new Int32Array(1);
  let found = -1;
  for (let d = 0; d <= Math.min(maxEdits, n + m); d++) {
    const frontier = new Int32Array(2 * d + 1);
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (d === 0) x = 0;
      else if (k === -d || (k !== d && previous[k - 1 + d - 1]! < previous[k + 1 + d - 1]!)) x = previous[k + 1 + d - 1]!;
      else x = previous[k - 1 + d - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      frontier[k + d] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    frontiers.push(frontier);
    previous = frontier;
    if (found >= 0) break;
  }
  if (found < 0) return undefined;
  // Walk back from (n, m), noting which lines were deleted from `a` and inserted from `b`.
  const deleted = new Uint8Array(n);
  const inserted = new Uint8Array(m);
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const k = x - y;
    const before = frontiers[d - 1]!;
    const down = k === -d || (k !== d && before[k - 1 + d - 1]! < before[k + 1 + d - 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = before[prevK + d - 1]!;
    const prevY = prevX - prevK;
    // The snake from the edit's end back to (x, y) is unchanged lines.
    if (down) inserted[prevY] = 1;
    else deleted[prevX] = 1;
    x = prevX;
    y = prevY;
  }
  const regions: LineRegion[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && !deleted[i] && !inserted[j]) {
      i++;
      j++;
      continue;
    }
    const aStart = i;
    const bStart = j;
    while (i < n && deleted[i]) i++;
    while (j < m && inserted[j]) j++;
    regions.push({ aStart, aEnd: i, bStart, bEnd: j });
  }
  return regions;
}

/** Character hunks between two short stretches, from diff-match-patch without a deadline (deterministic). */
function charHunks(before: string, after: string, at: number): { start: number; end: number; text: string }[] {
  const dmp = new DiffMatchPatch();
  dmp.Diff_Timeout = 0;
  const diffs = dmp.diff_main(before, after, false);
  dmp.diff_cleanupSemantic(diffs);
  const out: { start: number; end: number; text: string }[] = [];
  let pos = at;
  let open: { start: number; end: number; text: string } | undefined;
  for (const [op, chunk] of diffs) {
    if (op === DiffMatchPatch.DIFF_EQUAL) {
      if (open) out.push(open);
      open = undefined;
      pos += chunk.length;
      continue;
    }
    open ??= { start: pos, end: pos, text: '' };
    if (op === DiffMatchPatch.DIFF_DELETE) {
      open.end += chunk.length;
      pos += chunk.length;
    } else {
      open.text += chunk;
    }
  }
  if (open) out.push(open);
  return out;
}

/** Hunks for one replaced stretch: by character when it is short, else whole. */
function stretchHunks(before: string, after: string, at: number): { start: number; end: number; text: string }[] {
  if (before.length <= CHAR_DIFF_LIMIT && after.length <= CHAR_DIFF_LIMIT) return charHunks(before, after, at);
  return [{ start: at, end: at + before.length, text: after }];
}

/**
 * The changes that turn `before` into `after`, in ascending order, separated by unchanged text
 * (no two hunks touch). Deterministic, with work bounded by counts, never by a clock: every
 * replica must compute the same merge. Short stretches are diffed by character with
 * diff-match-patch; long texts by line first (at most MAX_LINE_EDITS differing lines, else the
 * whole stretch counts as replaced: a conflict, never a wrong text). Semantic cleanup folds
 * coincidental one-letter matches inside a rewritten passage into one hunk, so a merge sees the rewrite as one change instead of
 * confetti that a concurrent edit could interleave with. No hunk boundary splits a surrogate
 * pair, so a hunk's text can be inserted into a CRDT or a merge without breaking a character.
 */
export function diffHunks(before: string, after: string): TextHunk[] {
  if (before === after) return [];
  let prefix = 0;
  const shorter = Math.min(before.length, after.length);
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix))
    suffix++;
  const a = before.slice(prefix, before.length - suffix);
  const b = after.slice(prefix, after.length - suffix);
  let raw: { start: number; end: number; text: string }[];
  if (a.length <= CHAR_DIFF_LIMIT && b.length <= CHAR_DIFF_LIMIT) raw = charHunks(a, b, prefix);
  else {
    // Long texts: lines first, with bounded work, then characters within each short replaced stretch.
    const aLines = splitLines(a);
    const bLines = splitLines(b);
    const ids = new Map<string, number>();
    const idOf = (line: string): number => {
      let id = ids.get(line);
      if (id === undefined) ids.set(line, (id = ids.size));
      return id;
    };
    const regions = lineRegions(aLines.map(idOf), bLines.map(idOf), MAX_LINE_EDITS);
    if (!regions) raw = [{ start: prefix, end: prefix + a.length, text: b }];
    else {
      const aStarts = offsets(aLines);
      const bStarts = offsets(bLines);
      raw = regions.flatMap((r) =>
        stretchHunks(a.slice(aStarts[r.aStart], aStarts[r.aEnd]), b.slice(bStarts[r.bStart], bStarts[r.bEnd]), prefix + aStarts[r.aStart]!),
      );
    }
  }
  return coalesce(raw.map((h) => widenToCodePoints(before, h)));
}

/** Where each line starts, plus the end. */
function offsets(lines: readonly string[]): number[] {
  const out = [0];
  for (const line of lines) out.push(out[out.length - 1]! + line.length);
  return out;
}

/** Applies ascending, non-overlapping hunks to the text they were computed against. */
export function applyHunks(before: string, hunks: readonly TextHunk[]): string {
  let out = '';
  let pos = 0;
  for (const h of hunks) {
    out += before.slice(pos, h.start) + h.text;
    pos = h.end;
  }
  return out + before.slice(pos);
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** True when offset `at` of `text` falls between the two halves of a surrogate pair. */
function splitsPair(text: string, at: number): boolean {
  return at > 0 && at < text.length && isHigh(text.charCodeAt(at - 1)) && isLow(text.charCodeAt(at));
}

/**
 * The diff works on UTF-16 units and may cut a pair (😀 → 😁 differ in the low half only). The
 * unit next to the cut is unchanged on both sides, so moving it into the hunk keeps the hunk valid.
 */
function widenToCodePoints(before: string, h: { start: number; end: number; text: string }): TextHunk {
  let { start, end, text } = h;
  if (splitsPair(before, start)) {
    text = before[start - 1]! + text;
    start -= 1;
  }
  if (splitsPair(before, end)) {
    text += before[end]!;
    end += 1;
  }
  return { start, end, text };
}

/** Widening can make two hunks meet; a hunk list keeps unchanged text between its hunks. */
function coalesce(hunks: TextHunk[]): TextHunk[] {
  const out: TextHunk[] = [];
  for (const h of hunks) {
    const last = out[out.length - 1];
    if (last && h.start <= last.end) {
      out[out.length - 1] = { start: last.start, end: h.end, text: last.text + h.text };
    } else {
      out.push(h);
    }
  }
  return out;
}
