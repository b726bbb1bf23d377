import { equalBytes } from '../util/bytes';
import type { ChunkingParams } from '../model/chunker';
import { contentHash } from '../model/content-hash';
import type { FileRecord } from '../model/file-record';
import type { Hasher } from '../ports/hasher';

/**
 * Why a peer's file record cannot describe content anyone could deliver, or undefined if it can.
 * Checked before anything is written: a record costs its sender a few bytes per block, so a forged
 * one could otherwise make this disk write, and read back, gigabytes. The chunker never cuts a
 * block longer than `chunking.maxSize`, so a file of n bytes has at least n / maxSize blocks, and
 * its content hash is the hash over its block hashes, which the record itself lets us recompute.
 */
export function claimedContentProblem(record: FileRecord, chunking: ChunkingParams, hasher: Hasher): string | undefined {
  let total = 0;
  for (const block of record.blocks) {
    if (block.size < 1 || block.size > chunking.maxSize) {
      return `claims a block of ${block.size} bytes; blocks are 1 to ${chunking.maxSize} bytes`;
    }
    total += block.size;
  }
  if (total !== record.size) return `claims ${record.size} bytes but its blocks add up to ${total}`;
  if (!equalBytes(contentHash(record.blocks, hasher), record.hash)) {
    return `claims ${record.size} bytes under a content hash that does not match its own block list`;
  }
  return undefined;
}
