import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import type { FileRecord } from '../../../../src/sync/model/file-record';
import { encodeVector, EMPTY_VECTOR, merge, type VersionVector } from '../../../../src/sync/model/version-vector';
import { encodeRecord } from '../../../../src/sync/protocol/codec';
import { ByteWriter } from '../../../../src/sync/protocol/wire';
import { IndexDigest } from '../../../../src/sync/replica/summary';
import { concatBytes } from '../../../../src/sync/util/bytes';
import { Prng } from '../../../sim/prng';

const hasher = new NodeHasher();

/** The digest as first written: a BigInt sum of each record's hash modulo 2^256, kept here as the reference. */
function referenceSummary(records: readonly FileRecord[]): Uint8Array {
  let sum = 0n;
  let vector: VersionVector = EMPTY_VECTOR;
  for (const record of records) {
    const w = new ByteWriter();
    encodeRecord(w, { ...record, sequence: 0 });
    const h = hasher.sha256(w.finish());
    sum = (sum + BigInt('0x' + Buffer.from(h).toString('hex'))) % (1n << 256n);
    vector = merge(vector, record.version);
  }
  const digest = Uint8Array.from(Buffer.from(sum.toString(16).padStart(64, '0'), 'hex'));
  return hasher.sha256(concatBytes([encodeVector(vector), digest]));
}

function randomRecord(rng: Prng, i: number): FileRecord {
  const size = rng.int(100_000);
  return {
    path: `d${rng.int(10)}/f${i}`,
    type: 'file',
    deleted: false,
    size,
    mtime: 1_700_000_000_000 + rng.int(1_000_000),
    executable: false,
    hash: rng.bytes(32),
    blocks: [{ hash: rng.bytes(32), size }],
    target: '',
    version: [{ id: `r${rng.int(3)}`, counter: 1 + rng.int(1000) }],
    modifiedBy: 'u',
    ancestor: new Uint8Array(0),
    // Sequences of 1 to 3 varint bytes: the digest counts every record as if its sequence were 0.
    sequence: 1 + rng.int(3_000_000),
  };
}

test('the index digest equals the BigInt sum it replaced, through adds and removes', () => {
  const seed = 17;
  const rng = new Prng(seed);
  const digest = new IndexDigest(hasher, () => live.values());
  const live = new Map<string, FileRecord>();
  for (let step = 0; step < 600; step++) {
    const record = randomRecord(rng, rng.int(200));
    const old = live.get(record.path);
    if (old) digest.remove(old);
    if (rng.int(4) === 0) live.delete(record.path);
    else {
      live.set(record.path, record);
      digest.add(record);
    }
    if (step % 50 === 0) assert.deepEqual(digest.summary(), referenceSummary([...live.values()]), `seed ${seed}, step ${step}`);
  }
  assert.deepEqual(digest.summary(), referenceSummary([...live.values()]));
  // Removing everything takes limbs below zero between carries, down to the empty index's digest.
  for (const [path, record] of [...live]) {
    digest.remove(record);
    live.delete(path);
    if (live.size % 7 === 0) assert.deepEqual(digest.summary(), referenceSummary([...live.values()]), `seed ${seed}, ${live.size} left`);
  }
  assert.deepEqual(digest.summary(), referenceSummary([]));
});

test('a record and the same record under another sequence add the same value', () => {
  const rng = new Prng(3);
  const record = randomRecord(rng, 1);
  const a = new IndexDigest(hasher, () => [record]);
  const b = new IndexDigest(hasher, () => [record]);
  a.add(record);
  b.add({ ...record, sequence: 300_000 });
  assert.deepEqual(a.summary(), b.summary());
  const empty = new IndexDigest(hasher, () => []);
  assert.notDeepEqual(a.summary(), empty.summary());
});
