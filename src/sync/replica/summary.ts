import { concatBytes } from '../util/bytes';
import type { FileRecord } from '../model/file-record';
import type { Hasher } from '../ports/hasher';
import { ByteWriter } from '../protocol/wire';
import { encodeRecord } from '../protocol/codec';
import { compare, encodeVector, merge, type VersionVector, EMPTY_VECTOR } from '../model/version-vector';

const MODULUS = 1n << 256n;

/**
 * An order-independent digest of a set of records: the sum of their hashes modulo 2^256. Adding
 * and removing one record costs one hash, so the summary stays current as the index changes, and
 * two replicas compare whole indexes by comparing 32 bytes.
 */
export class IndexDigest {
  private sum = 0n;
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
    this.sum = (this.sum + this.recordValue(record)) % MODULUS;
    if (this.vectorValue !== undefined) this.vectorValue = merge(this.vectorValue, record.version);
  }

  /**
   * `replacement` is the record that takes its place, if one does: when its version is the same
   * or newer (an install noting its inode, a newer edit), every counter the old one carried is
   * still there, and the vector stays as it is instead of being merged again from every record.
   */
  remove(record: FileRecord, replacement?: FileRecord): void {
    this.sum = (this.sum - this.recordValue(record) + MODULUS) % MODULUS;
    if (replacement !== undefined && ['equal', 'greater'].includes(compare(replacement.version, record.version))) return;
    // A removed record may have carried the only maximum of some counter.
    this.vectorValue = undefined;
  }

  /** SHA-256 of (canonical replica vector || 32-byte digest). Equal summaries: identical indexes. */
  summary(): Uint8Array {
    const digest = new Uint8Array(32);
    let v = this.sum;
    for (let i = 31; i >= 0; i--) {
      digest[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return this.hasher.sha256(concatBytes([encodeVector(this.vector), digest]));
  }

  private recordValue(record: FileRecord): bigint {
    // Called for every record at load and on every change: one reused buffer, few BigInts.
    encodeRecord(this.writer.reset(), record.sequence === 0 ? record : { ...record, sequence: 0 });
    const h = this.hasher.sha256(this.writer.view());
    const view = new DataView(h.buffer, h.byteOffset, 32);
    return (view.getBigUint64(0) << 192n) | (view.getBigUint64(8) << 128n) | (view.getBigUint64(16) << 64n) | view.getBigUint64(24);
  }
}
