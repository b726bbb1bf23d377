import DiffMatchPatch from 'diff-match-patch';

/** `before.slice(start, end)` was replaced by `text`. Offsets are UTF-16 code units of `before`. */
export interface TextHunk {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

// Diff_Timeout 0 means "no deadline": with a deadline the result would depend on how fast the
// machine is, and every replica must compute the same diff from the same texts.
const dmp = new DiffMatchPatch();
dmp.Diff_Timeout = 0;

/**
 * The changes that turn `before` into `after`, in ascending order, separated by unchanged text
 * (no two hunks touch). Deterministic. Semantic cleanup folds coincidental one-letter matches
 * inside a rewritten passage into one hunk, so a merge sees the rewrite as one change instead of
 * confetti that a concurrent edit could interleave with. No hunk boundary splits a surrogate
 * pair, so a hunk's text can be inserted into a CRDT or a merge without breaking a character.
 */
export function diffHunks(before: string, after: string): TextHunk[] {
  if (before === after) return [];
  const diffs = dmp.diff_main(before, after, true);
  dmp.diff_cleanupSemantic(diffs);
  const raw: { start: number; end: number; text: string }[] = [];
  let pos = 0;
  let open: { start: number; end: number; text: string } | undefined;
  for (const [op, chunk] of diffs) {
    if (op === DiffMatchPatch.DIFF_EQUAL) {
      if (open) raw.push(open);
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
  if (open) raw.push(open);
  return coalesce(raw.map((h) => widenToCodePoints(before, h)));
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
