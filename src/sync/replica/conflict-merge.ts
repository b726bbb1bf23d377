import { fromUtf8, utf8 } from '../util/bytes';
import { isMergeableText, mergeText, MERGE_MAX_BYTES } from '../text/text-merge';

/**
 * The text that settles a conflict between two edits of one text file, when both started from
 * `base` and their changes do not overlap; undefined when the conflict must stay (a binary or
 * too large side, changes that overlap or touch). Symmetric in the two sides and deterministic,
 * so every replica that merges the same conflict writes the same bytes, and equal content is
 * never a new conflict.
 */
export function mergeConflict(
  base: Uint8Array,
  winner: Uint8Array,
  loser: Uint8Array,
  maxBytes: number = MERGE_MAX_BYTES,
): Uint8Array | undefined {
  if (![base, winner, loser].every((b) => isMergeableText(b, maxBytes))) return undefined;
  const [b, x, y] = sameLineBreaks(fromUtf8(base), fromUtf8(winner), fromUtf8(loser));
  const result = mergeText(b, x, y);
  return result.clean ? utf8(result.text) : undefined;
}

type Breaks = 'lf' | 'crlf' | 'mixed' | 'none';

function breaksOf(text: string): Breaks {
  const all = text.match(/\r?\n/g);
  if (!all) return 'none';
  const crlf = all.filter((b) => b.length === 2).length;
  return crlf === 0 ? 'lf' : crlf === all.length ? 'crlf' : 'mixed';
}

/**
 * One side converting every line break (an editor set to CRLF, say) changes every line, which
 * would make any edit of the other side overlap it. When exactly one side switched cleanly from
 * one style to the other, the base and the other side take that style first, so the other
 * side's edits merge and its new lines end like all the others.
 */
function sameLineBreaks(base: string, x: string, y: string): [string, string, string] {
  const b = breaksOf(base);
  const bx = breaksOf(x);
  const by = breaksOf(y);
  const switched = (to: Breaks, other: Breaks): boolean =>
    (b === 'lf' || b === 'crlf') && (to === 'lf' || to === 'crlf') && to !== b && (other === b || other === 'none');
  if (switched(bx, by)) return [withBreaks(base, bx), x, withBreaks(y, bx)];
  if (switched(by, bx)) return [withBreaks(base, by), withBreaks(x, by), y];
  return [base, x, y];
}

function withBreaks(text: string, breaks: Breaks): string {
  return text.replace(/\r?\n/g, breaks === 'crlf' ? '\r\n' : '\n');
}
