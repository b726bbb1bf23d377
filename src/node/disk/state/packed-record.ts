import type { BlockRef, FileRecord } from '../../../sync/model/file-record';
import { ByteReader } from '../../../sync/protocol/wire';

/**
 * A record loaded from the state, with its block list left as the bytes the state holds and
 * decoded each time it is read. A loaded index is mostly records nobody touches until they
 * change, and block lists were most of each one's memory: an array, then per block an object and
 * a typed array (about 96 bytes besides its 32 bytes of hash). Packed, a record of one block costs
 * about 190 bytes less (bench/disk-records.ts holds 1,000,000 records).
 *
 * The record is a plain object with every FileRecord field as its own enumerable property, so a
 * spread (`{ ...record, sequence }`), `Object.keys`, JSON and deep equality see what they would
 * see on a decoded record: `blocks` is an own getter. Each read returns a new array: callers
 * compare blocks by content (equalBytes), never by identity.
 */

/**
 * The block list of a packed record, decoded from the bytes that follow its hash in the arena:
 * the hash is a view into the arena chunk, so it also says where the blocks are, and the record
 * needs no other hidden field (each costs a defineProperty, about a microsecond, at load).
 */
function packedBlocks(this: { readonly hash: Uint8Array }): BlockRef[] {
  const hash = this.hash;
  const r = new ByteReader(new Uint8Array(hash.buffer, hash.byteOffset + hash.length));
  const count = r.varint();
  const blocks = new Array<BlockRef>(count);
  for (let i = 0; i < count; i++) {
    const blockHash = r.raw(32).slice();
    blocks[i] = { hash: blockHash, size: r.varint() };
  }
  return blocks;
}

// One descriptor object, shared by every record: records defined alike share one hidden class.
const BLOCKS: PropertyDescriptor = { get: packedBlocks, enumerable: true, configurable: false };

const CHUNK_BYTES = 64 * 1024;
const HASH_BYTES = 32;

/**
 * Copies of the hash-and-blocks bytes, packed into 1 MiB chunks: one ArrayBuffer per chunk rather
 * than per record. A chunk is freed once every record pointing into it is gone.
 */
export class PackedArena {
  private chunk = new Uint8Array(CHUNK_BYTES);
  private used = 0;

  /**
   * `decoded` is the record as decoded from `bytes`, where its block list (count, then hash and
   * size of each block) lies from `from` to `to`. Its hash must be 32 bytes.
   */
  pack(decoded: FileRecord, bytes: Uint8Array, from: number, to: number): FileRecord {
    const length = HASH_BYTES + to - from;
    if (this.used + length > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(CHUNK_BYTES, length));
      this.used = 0;
    }
    const at = this.used;
    this.chunk.set(decoded.hash, at);
    this.chunk.set(bytes.subarray(from, to), at + HASH_BYTES);
    this.used += length;
    const hash = this.chunk.subarray(at, at + HASH_BYTES);
    const { path, type, deleted, size, mtime, executable, target, version, modifiedBy, ancestor, sequence, inode } = decoded;
    const record = { path, type, deleted, size, mtime, executable, hash, target, version, modifiedBy, ancestor, sequence, inode };
    Object.defineProperty(record, 'blocks', BLOCKS);
    return record as unknown as FileRecord;
  }
}

/** Where the block list starts in a state record's bytes: after path, type, flags, size, mtime and hash. */
export function blockListStart(bytes: Uint8Array): number {
  const r = new ByteReader(bytes);
  r.raw(r.varint());
  r.u8();
  r.u8();
  r.varint();
  r.varint();
  r.raw(r.varint());
  return r.offset;
}

/** Bytes of a decoded record's block list, as encodeRecord writes it. */
export function blockListLength(record: FileRecord): number {
  let n = varintBytes(record.blocks.length);
  for (const b of record.blocks) n += b.hash.length + varintBytes(b.size);
  return n;
}

function varintBytes(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}
