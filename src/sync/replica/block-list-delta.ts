import type { BlockRef } from '../model/file-record';
import type { BlockListDelta } from '../protocol/messages';
import { equalBytes } from '../util/bytes';

/**
 * A record's block list sent as an edit of the list the peer already holds (docs/PROTOCOL.md
 * section 4): an insert in the middle of a 100 MiB file changes one or two of its ~3,200 blocks,
 * and the other ~3,200 × 35 bytes need not cross again.
 */

/** Below this many blocks a whole list is small enough (about 2 KiB) that a delta is not worth its bookkeeping. */
export const DELTA_MIN_BLOCKS = 64;

/** The longest common prefix and suffix of `base` and `next`, and what lies between in `next`. */
export function diffBlockLists(baseHash: Uint8Array, base: readonly BlockRef[], next: readonly BlockRef[]): BlockListDelta {
  const limit = Math.min(base.length, next.length);
  let prefix = 0;
  while (prefix < limit && sameBlock(base[prefix]!, next[prefix]!)) prefix++;
  let suffix = 0;
  while (suffix < limit - prefix && sameBlock(base[base.length - 1 - suffix]!, next[next.length - 1 - suffix]!)) suffix++;
  return { base: baseHash, prefix, suffix, middle: next.slice(prefix, next.length - suffix) };
}

/** The list `delta` stands for, given the base it names; undefined when the base is too short for it. */
export function applyBlockListDelta(base: readonly BlockRef[], delta: BlockListDelta): BlockRef[] | undefined {
  if (delta.prefix + delta.suffix > base.length) return undefined;
  return [...base.slice(0, delta.prefix), ...delta.middle, ...base.slice(base.length - delta.suffix)];
}

function sameBlock(a: BlockRef, b: BlockRef): boolean {
  return a.size === b.size && equalBytes(a.hash, b.hash);
}

/**
 * The last few large block lists this replica sent or received, by content hash: the bases a
 * delta can be made against once the index holds a newer version of the file. Bounded by the
 * blocks it holds, so a folder of huge files keeps a handful at most.
 */
export class RecentBlockLists {
  private readonly lists = new Map<string, readonly BlockRef[]>();
  private blocks = 0;

  constructor(private readonly maxBlocks = 262_144) {}

  remember(hashHex: string, blocks: readonly BlockRef[]): void {
    if (blocks.length < DELTA_MIN_BLOCKS || blocks.length > this.maxBlocks) return;
    const known = this.lists.get(hashHex);
    if (known) {
      // Most recently used last: the oldest goes first.
      this.lists.delete(hashHex);
      this.lists.set(hashHex, known);
      return;
    }
    this.lists.set(hashHex, blocks);
    this.blocks += blocks.length;
    for (const [key, list] of this.lists) {
      if (this.blocks <= this.maxBlocks) break;
      this.lists.delete(key);
      this.blocks -= list.length;
    }
  }

  get(hashHex: string): readonly BlockRef[] | undefined {
    return this.lists.get(hashHex);
  }
}
