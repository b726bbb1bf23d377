import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import { toHex } from '../../../../src/sync/util/bytes';
import {
  compactVector as compact,
  compare,
  counterOf,
  encodeVector,
  isCanonical,
  merge,
  nextCounter,
  withCounter,
  type VersionVector,
} from '../../../../src/sync/model/version-vector';

const ids = ['a', 'b', 'c', 'd'];
const arbVector: fc.Arbitrary<VersionVector> = fc
  .array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 1, max: 50 })), { maxLength: 4 })
  .map((pairs) => pairs.reduce<VersionVector>((v, [id, n]) => withCounter(v, id, n), []));

test('vectors built by withCounter are canonical', () => {
  fc.assert(fc.property(arbVector, (v) => isCanonical(v)));
});

test('compare is reflexive and antisymmetric', () => {
  fc.assert(
    fc.property(arbVector, arbVector, (a, b) => {
      assert.equal(compare(a, a), 'equal');
      const ab = compare(a, b);
      const ba = compare(b, a);
      const mirror = { equal: 'equal', greater: 'lesser', lesser: 'greater', concurrent: 'concurrent' } as const;
      assert.equal(ba, mirror[ab]);
    }),
  );
});

test('merge is commutative, associative, idempotent and an upper bound', () => {
  fc.assert(
    fc.property(arbVector, arbVector, arbVector, (a, b, c) => {
      assert.deepEqual(merge(a, b), merge(b, a));
      assert.deepEqual(merge(merge(a, b), c), merge(a, merge(b, c)));
      assert.deepEqual(merge(a, a), a);
      const m = merge(a, b);
      assert.ok(['greater', 'equal'].includes(compare(m, a)));
      assert.ok(['greater', 'equal'].includes(compare(m, b)));
      assert.ok(isCanonical(m));
    }),
  );
});

test('ordering is transitive for greater', () => {
  fc.assert(
    fc.property(arbVector, arbVector, arbVector, (a, b, c) => {
      if (compare(a, b) === 'greater' && compare(b, c) === 'greater') assert.equal(compare(a, c), 'greater');
    }),
  );
});

test('bumping one replica makes a vector greater than its base', () => {
  fc.assert(
    fc.property(arbVector, fc.constantFrom(...ids), (v, id) => {
      const next = withCounter(v, id, counterOf(v, id) + 1);
      assert.equal(compare(next, v), 'greater');
      assert.equal(compare(v, next), 'lesser');
    }),
  );
});

test('independent bumps of the same base are concurrent', () => {
  const base = withCounter(withCounter([], 'a', 3), 'b', 2);
  const x = withCounter(base, 'a', 4);
  const y = withCounter(base, 'b', 3);
  assert.equal(compare(x, y), 'concurrent');
  assert.deepEqual(merge(x, y), [
    { id: 'a', counter: 4 },
    { id: 'b', counter: 3 },
  ]);
});

test('next counter is max(last + 1, now in milliseconds)', () => {
  assert.equal(nextCounter(5, 3), 6);
  assert.equal(nextCounter(5, 1_700_000_000_123), 1_700_000_000_123);
  assert.equal(nextCounter(1_700_000_000_125, 1_700_000_000_123), 1_700_000_000_126);
  // A counter issued in seconds before version 1.1 is passed at once.
  assert.equal(nextCounter(1_700_000_000, 1_700_000_000_123), 1_700_000_000_123);
});

test('a replica that forgot its counters still issues a newer counter than before', () => {
  // Counters follow wall time, so after losing state the first new counter passes the old ones.
  const before = nextCounter(nextCounter(0, 1_000_000_000), 1_000_000_000);
  const afterLoss = nextCounter(0, 1_000_010_000);
  assert.ok(afterLoss > before);
});

test('canonical encoding and compact form are stable (golden)', () => {
  const v = withCounter(withCounter([], 'b', 300), 'a', 1);
  assert.equal(toHex(encodeVector(v)), '020161010162ac02');
  assert.equal(toHex(compact(v, new NodeHasher())).length, 64);
  assert.equal(toHex(compact(v, new NodeHasher())), toHex(compact(merge(v, v), new NodeHasher())));
});

test('isCanonical rejects unsorted ids, duplicates and zero counters', () => {
  assert.equal(
    isCanonical([
      { id: 'b', counter: 1 },
      { id: 'a', counter: 1 },
    ]),
    false,
  );
  assert.equal(
    isCanonical([
      { id: 'a', counter: 1 },
      { id: 'a', counter: 2 },
    ]),
    false,
  );
  assert.equal(isCanonical([{ id: 'a', counter: 0 }]), false);
});
