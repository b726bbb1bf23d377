import DiffMatchPatch from 'diff-match-patch';

/** `before.slice(start, end)` was replaced by `text`. Offsets are UTF-16 code units of `before`. */
export interface TextHunk {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

type Diff = DiffMatchPatch.Diff;
const DiffTuple = (DiffMatchPatch as unknown as { Diff: new (op: number, text: string) => Diff }).Diff;

/** Steps of the diff's inner loop one `diffHunks` call may take, a fraction of a second's work. */
export const DIFF_BUDGET = 50_000_000;

/**
 * diff-match-patch with a deterministic bound on its work. Its own bound is a deadline in wall
 * time, so the same two texts could diff differently on a slow and a fast machine, and every
 * replica must compute the same merge. Without any bound, two rewrites of a 1 MB file (a
 * formatter, a change of line breaks) take O(size × differences) steps: minutes. Here the Myers
 * bisection (diff-match-patch's `diff_bisect_`, Apache-2.0, the same algorithm step for step)
 * counts its steps instead, and once the budget is spent every further stretch is reported as
 * replaced whole, which is what diff-match-patch does at its deadline: a coarser diff, so at
 * worst a conflict instead of a merge, never a wrong text.
 */
class BudgetedDiff extends DiffMatchPatch {
  steps = 0;
  /** Inherited, missing from the type definitions: diffs both sides of the middle snake. */
  declare diff_bisectSplit_: (text1: string, text2: string, x: number, y: number, deadline: number) => Diff[];

  override diff_bisect_(text1: string, text2: string, deadline: number): Diff[] {
    const n1 = text1.length;
    const n2 = text2.length;
    const maxD = Math.ceil((n1 + n2) / 2);
    const vOffset = maxD;
    const vLength = 2 * maxD;
    if (this.steps + vLength > DIFF_BUDGET) return whole(text1, text2);
    this.steps += vLength;
    const v1 = new Array<number>(vLength).fill(-1);
    const v2 = new Array<number>(vLength).fill(-1);
    v1[vOffset + 1] = 0;
    v2[vOffset + 1] = 0;
    const delta = n1 - n2;
    // With an odd total length the front path collides with the reverse path, else the reverse with the front.
    const front = delta % 2 !== 0;
    let k1start = 0;
    let k1end = 0;
    let k2start = 0;
    let k2end = 0;
    for (let d = 0; d < maxD; d++) {
      if (this.steps > DIFF_BUDGET) break;
      for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
        const k1Offset = vOffset + k1;
        let x1 = k1 === -d || (k1 !== d && v1[k1Offset - 1]! < v1[k1Offset + 1]!) ? v1[k1Offset + 1]! : v1[k1Offset - 1]! + 1;
        let y1 = x1 - k1;
        const from = x1;
        while (x1 < n1 && y1 < n2 && text1.charCodeAt(x1) === text2.charCodeAt(y1)) {
          x1++;
          y1++;
        }
        this.steps += 1 + x1 - from;
        v1[k1Offset] = x1;
        if (x1 > n1) k1end += 2;
        else if (y1 > n2) k1start += 2;
        else if (front) {
          const k2Offset = vOffset + delta - k1;
          if (k2Offset >= 0 && k2Offset < vLength && v2[k2Offset] !== -1) {
            if (x1 >= n1 - v2[k2Offset]!) return this.diff_bisectSplit_(text1, text2, x1, y1, deadline);
          }
        }
      }
      for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
        const k2Offset = vOffset + k2;
        let x2 = k2 === -d || (k2 !== d && v2[k2Offset - 1]! < v2[k2Offset + 1]!) ? v2[k2Offset + 1]! : v2[k2Offset - 1]! + 1;
        let y2 = x2 - k2;
        const from = x2;
        while (x2 < n1 && y2 < n2 && text1.charCodeAt(n1 - x2 - 1) === text2.charCodeAt(n2 - y2 - 1)) {
          x2++;
          y2++;
        }
        this.steps += 1 + x2 - from;
        v2[k2Offset] = x2;
        if (x2 > n1) k2end += 2;
        else if (y2 > n2) k2start += 2;
        else if (!front) {
          const k1Offset = vOffset + delta - k2;
          if (k1Offset >= 0 && k1Offset < vLength && v1[k1Offset] !== -1) {
            const x1 = v1[k1Offset]!;
            const y1 = vOffset + x1 - k1Offset;
            if (x1 >= n1 - x2) return this.diff_bisectSplit_(text1, text2, x1, y1, deadline);
          }
        }
      }
    }
    return whole(text1, text2);
  }
}

function whole(text1: string, text2: string): Diff[] {
  return [new DiffTuple(DiffMatchPatch.DIFF_DELETE, text1), new DiffTuple(DiffMatchPatch.DIFF_INSERT, text2)];
}

function newDiffer(): BudgetedDiff {
  const dmp = new BudgetedDiff();
  // No deadline: the budget above bounds the work instead.
  dmp.Diff_Timeout = 0;
  return dmp;
}

/**
 * The changes that turn `before` into `after`, in ascending order, separated by unchanged text
 * (no two hunks touch). Deterministic, with bounded work (BudgetedDiff). Semantic cleanup folds coincidental one-letter matches
 * inside a rewritten passage into one hunk, so a merge sees the rewrite as one change instead of
 * confetti that a concurrent edit could interleave with. No hunk boundary splits a surrogate
 * pair, so a hunk's text can be inserted into a CRDT or a merge without breaking a character.
 */
export function diffHunks(before: string, after: string): TextHunk[] {
  if (before === after) return [];
  const dmp = newDiffer();
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
