import type { BlockRef, FileRecord } from '../../../sync/model/file-record';
import { ByteReader, varintBytes } from '../../../sync/protocol/wire';

/**
 * A record loaded from the state, with its content hash and block list left as the bytes the
 * state holds and decoded each time they are read. A loaded index is mostly records nobody
 * touches until they change, and these were most of each one's memory: a typed array costs about
 * 96 bytes besides its 32 bytes of hash, and a block list an array, then per block an object and
 * another typed array. Packed, a record of one block costs about 280 bytes less
 * (bench/disk-records.ts holds 1,000,000 records).
 *
 * The record is a plain object (its prototype Object.prototype) with every FileRecord field as
 * its own enumerable property, so a spread (`{ ...record, sequence }`), `Object.keys`, JSON,
 * structuredClone and deep equality see what they would see on a decoded record: `hash` and
 * `blocks` are own getters. Where the bytes lie is held in two private fields stamped onto the
 * object (PackedLocation below), which no reflection, spread or comparison sees. Each read
 * returns new arrays: callers compare hashes by content (equalBytes), never by identity.
 */

/** Returns the object it is given, so that a subclass's private fields land on that object. */
class Stamped {
  constructor(target: object) {
    return target;
  }
}

/** The arena chunk and offset of a packed record's hash, followed by its block list. */
class PackedLocation extends Stamped {
  readonly #chunk: Uint8Array;
  readonly #at: number;

  private constructor(target: object, chunk: Uint8Array, at: number) {
    super(target);
    this.#chunk = chunk;
    this.#at = at;
  }

  static stamp(target: object, chunk: Uint8Array, at: number): void {
    new PackedLocation(target, chunk, at);
  }

  static hash(record: object): Uint8Array {
    const self = record as PackedLocation;
    return self.#chunk.slice(self.#at, self.#at + HASH_BYTES);
  }

  static blocks(record: object): BlockRef[] {
    const self = record as PackedLocation;
    const r = new ByteReader(self.#chunk.subarray(self.#at + HASH_BYTES));
    const count = r.varint();
    const blocks = new Array<BlockRef>(count);
    for (let i = 0; i < count; i++) {
      const hash = r.raw(HASH_BYTES).slice();
      blocks[i] = { hash, size: r.varint() };
    }
    return blocks;
  }
}

// One descriptor object each, shared by every record: records defined alike share one hidden class.
const HASH: PropertyDescriptor = {
  get(this: object): Uint8Array {
    return PackedLocation.hash(this);
  },
  enumerable: true,
  configurable: false,
};
const BLOCKS: PropertyDescriptor = {
  get(this: object): BlockRef[] {
    return PackedLocation.blocks(this);
  },
  enumerable: true,
  configurable: false,
};

const CHUNK_BYTES = 64 * 1024;
const HASH_BYTES = 32;

/**
 * Copies of the hash and block-list bytes, packed into 64 KiB chunks: one ArrayBuffer per chunk
 * rather than per record. A chunk is freed once every record pointing into it is gone.
 */
export class PackedArena {
  private chunk = new Uint8Array(CHUNK_BYTES);
  private used = 0;

  /**
   * `decoded` is the record as decoded from `bytes`, where its block list (count, then hash and
   * size of each block) lies from `from` to `to`; its hash must be 32 bytes. The packed record
   * takes `path` (equal to the decoded one) as its path.
   */
  pack(decoded: FileRecord, path: string, bytes: Uint8Array, from: number, to: number): FileRecord {
    const length = HASH_BYTES + to - from;
    if (this.used + length > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(CHUNK_BYTES, length));
      this.used = 0;
    }
    const at = this.used;
    this.chunk.set(decoded.hash, at);
    this.chunk.set(bytes.subarray(from, to), at + HASH_BYTES);
    this.used += length;
    const { type, deleted, size, mtime, executable, target, version, modifiedBy, ancestor, sequence, inode } = decoded;
    const record = { path, type, deleted, size, mtime, executable, target, version, modifiedBy, ancestor, sequence, inode };
    PackedLocation.stamp(record, this.chunk, at);
    Object.defineProperty(record, 'hash', HASH);
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
