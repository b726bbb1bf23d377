/**
 * src/sync/text/: text diffs as hunks (text-diff.ts: lines first, then characters through
 * diff-match-patch) and the three-way merge (text-merge.ts) that settles conflicts of small text
 * files and merges unsaved edits into a co-editing session.
 * Pure engine: imports diff-match-patch and src/sync/util only.
 */
import { fromUtf8 } from '../util/bytes';
import { applyHunks, diffHunks, type TextHunk } from './text-diff';

/** Text files up to this size are merged; the replica keeps merge bases up to the same size. */
export const MERGE_MAX_BYTES = 1024 * 1024;

/** One stretch of the base that both sides changed differently. Offsets are UTF-16 units of the base. */
export interface TextConflict {
  readonly baseStart: number;
  readonly baseEnd: number;
  /** The stretch as it was in the base, and as each side left it. */
  readonly base: string;
  readonly ours: string;
  readonly theirs: string;
}

export type TextMergeResult =
  | { readonly clean: true; readonly text: string }
  | {
      readonly clean: false;
      readonly conflicts: readonly TextConflict[];
      /** Every non-conflicting change of both sides, and our side of each conflict. */
      readonly keepingOurs: string;
      /** Every non-conflicting change of both sides, and their side of each conflict. */
      readonly keepingTheirs: string;
    };

/**
 * Three-way merge of two texts that both started from `base`.
 *
 * Each side's changes are diffed against the base and compared on base ranges:
 * - a change made by one side only is applied;
 * - a stretch both sides changed into the same text is applied once (however the diffs cut it);
 * - changes of the two sides that overlap or touch (share even one base position, which includes
 *   two insertions at the same place) are a conflict unless identical.
 *
 * Touching counts as overlapping on purpose: it is the only case where the output would need a tie
 * rule (whose insertion goes first), and any tie rule would silently pick an order the authors
 * never saw. With it, the position of every piece in the output follows from base offsets alone,
 * so `mergeText(b, x, y)` and `mergeText(b, y, x)` give the same verdict and the same text, and so
 * does every replica that computes the merge on its own. The diff is deterministic (no deadline).
 */
export function mergeText(base: string, ours: string, theirs: string): TextMergeResult {
  if (ours === theirs || theirs === base) return { clean: true, text: ours };
  if (ours === base) return { clean: true, text: theirs };
  const regions = groupRegions(diffHunks(base, ours), diffHunks(base, theirs));
  const merged: TextHunk[] = [];
  const keepOurs: TextHunk[] = [];
  const keepTheirs: TextHunk[] = [];
  const conflicts: TextConflict[] = [];
  const agreed = (h: TextHunk): void => {
    merged.push(h);
    keepOurs.push(h);
    keepTheirs.push(h);
  };
  for (const r of regions) {
    const single = oneSidedChange(r);
    if (single) {
      agreed(single);
      continue;
    }
    const baseText = base.slice(r.start, r.end);
    const oursText = applyHunks(baseText, shift(r.ours, -r.start));
    const theirsText = applyHunks(baseText, shift(r.theirs, -r.start));
    // The same change, or different hunks with one outcome (each side deleted one of two equal characters).
    if (oursText === theirsText) {
      agreed({ start: r.start, end: r.end, text: oursText });
      continue;
    }
    conflicts.push({ baseStart: r.start, baseEnd: r.end, base: baseText, ours: oursText, theirs: theirsText });
    keepOurs.push({ start: r.start, end: r.end, text: oursText });
    keepTheirs.push({ start: r.start, end: r.end, text: theirsText });
  }
  if (conflicts.length === 0) return { clean: true, text: applyHunks(base, merged) };
  return { clean: false, conflicts, keepingOurs: applyHunks(base, keepOurs), keepingTheirs: applyHunks(base, keepTheirs) };
}

/** Hunks of both sides that overlap or touch, transitively, with the base range they cover together. */
interface Region {
  start: number;
  end: number;
  readonly ours: TextHunk[];
  readonly theirs: TextHunk[];
}

function groupRegions(ours: readonly TextHunk[], theirs: readonly TextHunk[]): Region[] {
  const tagged = [...ours.map((h) => ({ h, side: 0 })), ...theirs.map((h) => ({ h, side: 1 }))];
  // The order within equal starts does not matter: hunks that share a start always land in one region.
  tagged.sort((a, b) => a.h.start - b.h.start || a.h.end - b.h.end || a.side - b.side);
  const regions: Region[] = [];
  for (const { h, side } of tagged) {
    const last = regions[regions.length - 1];
    let region: Region;
    if (last && h.start <= last.end) {
      region = last;
      region.end = Math.max(region.end, h.end);
    } else {
      region = { start: h.start, end: h.end, ours: [], theirs: [] };
      regions.push(region);
    }
    (side === 0 ? region.ours : region.theirs).push(h);
  }
  return regions;
}

/** The region's one change, when only one side changed it. */
function oneSidedChange(r: Region): TextHunk | undefined {
  if (r.theirs.length === 0 && r.ours.length === 1) return r.ours[0];
  if (r.ours.length === 0 && r.theirs.length === 1) return r.theirs[0];
  return undefined;
}

function shift(hunks: readonly TextHunk[], by: number): TextHunk[] {
  return hunks.map((h) => ({ start: h.start + by, end: h.end + by, text: h.text }));
}

/**
 * Whether a file's bytes can take part in a text merge: valid UTF-8 without NUL (binary files
 * keep the conflict-copy behaviour) and at most `maxBytes` long (the diff grows with the size).
 */
export function isMergeableText(bytes: Uint8Array, maxBytes: number = MERGE_MAX_BYTES): boolean {
  if (bytes.length > maxBytes || bytes.includes(0)) return false;
  try {
    fromUtf8(bytes);
    return true;
  } catch {
    return false;
  }
}
