import { concatBytes } from './bytes';
import type { FileRecord } from './file-record';
import type { Hasher } from './ports';
import { ByteWriter } from './protocol/wire';
import { encodeRecord } from './protocol/codec';
import { encodeVector, merge, type VersionVector, EMPTY_VECTOR } from './version-vector';

const MODULUS = 1n << 256n;

/**
 * An order-independent digest of a set of records: the sum of their hashes modulo 2^256. Adding
 * and removing one record costs one hash, so the summary stays current as the index changes, and
 * two replicas compare whole indexes by comparing 32 bytes.
 */
export class IndexDigest {
  private sum = 0n;
  private vectorValue: VersionVector = EMPTY_VECTOR;

  constructor(private readonly hasher: Hasher) {}

  /** Merge of every record's vector ever added; it only grows, like the replica's knowledge. */
  get vector(): VersionVector {
    return this.vectorValue;
  }

  add(record: FileRecord): void {
    this.sum = (this.sum + this.recordValue(record)) % MODULUS;
    this.vectorValue = merge(this.vectorValue, record.version);
  }

  remove(record: FileRecord): void {
    this.sum = (this.sum - this.recordValue(record) + MODULUS) % MODULUS;
  }

  /** SHA-256 of (canonical replica vector || 32-byte digest). Equal summaries: identical indexes. */
  summary(): Uint8Array {
    const digest = new Uint8Array(32);
    let v = this.sum;
    for (let i = 31; i >= 0; i--) {
      digest[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return this.hasher.sha256(concatBytes([encodeVector(this.vectorValue), digest]));
  }

  private recordValue(record: FileRecord): bigint {
    const w = new ByteWriter();
    encodeRecord(w, { ...record, sequence: 0 });
    const h = this.hasher.sha256(w.finish());
    let v = 0n;
    for (const b of h) v = (v << 8n) | BigInt(b);
    return v;
  }
}
