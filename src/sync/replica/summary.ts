import { concatBytes } from '../util/bytes';
import type { FileRecord } from '../model/file-record';
import type { Hasher } from '../ports/hasher';
import { ByteWriter, varintBytes } from '../protocol/wire';
import { encodeRecord } from '../protocol/codec';
import { compare, encodeVector, merge, type VersionVector, EMPTY_VECTOR } from '../model/version-vector';

/** The sum is kept as eight 32-bit limbs, least significant first, in doubles: no BigInt per record. */
const LIMBS = 8;
const LIMB = 2 ** 32;
/** Limbs stay exact integers (under 2^53) for this many additions or removals of 32-bit words. */
const CARRY_EVERY = 1 << 20;

/**
 * An order-independent digest of a set of records: the sum of their hashes modulo 2^256. Adding
 * and removing one record costs one hash, so the summary stays current as the index changes, and
 * two replicas compare whole indexes by comparing 32 bytes.
 */
export class IndexDigest {
  /** The sum modulo 2^256, limbs carried only every CARRY_EVERY steps (each may be negative until then). */
  private readonly sum = new Float64Array(LIMBS);
  private uncarried = 0;
  private vectorValue: VersionVector | undefined = EMPTY_VECTOR;

  /** `records` lists the current records, to recompute the vector after a change. */
  constructor(
    private readonly hasher: Hasher,
    private readonly records: () => Iterable<FileRecord>,
  ) {}

  /** Merge of the current records' vectors: what this replica's index knows. */
  get vector(): VersionVector {
    if (this.vectorValue === undefined) {
      let v: VersionVector = EMPTY_VECTOR;
      for (const r of this.records()) v = merge(v, r.version);
      this.vectorValue = v;
    }
    return this.vectorValue;
  }

  private readonly writer = new ByteWriter();

  add(record: FileRecord): void {
    this.accumulate(record, 1);
    if (this.vectorValue !== undefined) this.vectorValue = merge(this.vectorValue, record.version);
  }

  /**
   * `replacement` is the record that takes its place, if one does: when its version is the same
   * or newer (an install noting its inode, a newer edit), every counter the old one carried is
   * still there, and the vector stays as it is instead of being merged again from every record.
   */
  remove(record: FileRecord, replacement?: FileRecord): void {
    this.accumulate(record, -1);
    if (replacement !== undefined && ['equal', 'greater'].includes(compare(replacement.version, record.version))) return;
    // A removed record may have carried the only maximum of some counter.
    this.vectorValue = undefined;
  }

  /** SHA-256 of (canonical replica vector || 32-byte digest). Equal summaries: identical indexes. */
  summary(): Uint8Array {
    this.carry();
    const digest = new Uint8Array(32);
    const view = new DataView(digest.buffer);
    for (let i = 0; i < LIMBS; i++) view.setUint32(28 - 4 * i, this.sum[i]!);
    return this.hasher.sha256(concatBytes([encodeVector(this.vector), digest]));
  }

  /** Adds (sign 1) or subtracts (-1) the record's value: SHA-256 of its encoding with sequence 0, read big-endian. */
  private accumulate(record: FileRecord, sign: 1 | -1): void {
    // Called for every record at load and on every change: one reused buffer, no copy of the
    // record to zero its sequence. The encoding ends with the sequence; a 0 takes its place.
    encodeRecord(this.writer.reset(), record);
    const encoded = this.writer.view();
    const end = encoded.length - varintBytes(record.sequence);
    encoded[end] = 0;
    const h = this.hasher.sha256(encoded.subarray(0, end + 1));
    const view = new DataView(h.buffer, h.byteOffset, 32);
    for (let i = 0; i < LIMBS; i++) this.sum[i] = this.sum[i]! + sign * view.getUint32(28 - 4 * i);
    if (++this.uncarried >= CARRY_EVERY) this.carry();
  }

  /** Brings every limb back into 0..2^32-1, dropping the carry out of the top (the sum is modulo 2^256). */
  private carry(): void {
    let carry = 0;
    for (let i = 0; i < LIMBS; i++) {
      const v = this.sum[i]! + carry;
      const low = ((v % LIMB) + LIMB) % LIMB;
      carry = (v - low) / LIMB;
      this.sum[i] = low;
    }
    this.uncarried = 0;
  }
}
