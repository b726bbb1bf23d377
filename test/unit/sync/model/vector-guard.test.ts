import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forgedCounter, MAX_COUNTER_LEAD_MS } from '../../../../src/sync/model/vector-guard';
import { nextCounter, withCounter, type VersionVector } from '../../../../src/sync/model/version-vector';

const NOW = Date.UTC(2026, 11, 7, 12);
const own = { id: 'me', counter: NOW - 5_000 };

test('a vector with counters this replica issued and others near the clock could be genuine', () => {
  const v: VersionVector = [
    { id: 'me', counter: own.counter },
    { id: 'other', counter: NOW + MAX_COUNTER_LEAD_MS },
  ];
  assert.equal(forgedCounter(v, own, NOW), undefined);
  assert.equal(forgedCounter([], own, NOW), undefined);
});

test('a counter for this replica above any it issued is forged, however close to the clock', () => {
  assert.deepEqual(forgedCounter([{ id: 'me', counter: own.counter + 1 }], own, NOW), {
    kind: 'ownCounter',
    counter: own.counter + 1,
    own: own.counter,
  });
  assert.equal(forgedCounter([{ id: 'me', counter: Number.MAX_SAFE_INTEGER }], own, NOW)?.kind, 'ownCounter');
});

test('a counter more than the allowed lead ahead of the clock is forged, for any replica', () => {
  const v: VersionVector = [{ id: 'other', counter: NOW + MAX_COUNTER_LEAD_MS + 1 }];
  assert.deepEqual(forgedCounter(v, own, NOW), {
    kind: 'future',
    id: 'other',
    counter: NOW + MAX_COUNTER_LEAD_MS + 1,
    leadMs: MAX_COUNTER_LEAD_MS + 1,
  });
  assert.equal(
    forgedCounter(
      [
        { id: 'a', counter: 1 },
        { id: 'b', counter: Number.MAX_SAFE_INTEGER },
      ],
      own,
      NOW,
    )?.kind,
    'future',
  );
});

test('counters made by the clock rule pass a receiver whose clock is behind by less than the lead minus the burst', () => {
  // A writer with its clock `skew` ms ahead of the receiver's issues `burst` versions within one
  // millisecond: its last counter runs skew + burst - 1 ms ahead, within the lead.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: MAX_COUNTER_LEAD_MS - 2_000 }), fc.integer({ min: 1, max: 2_000 }), (skew, burst) => {
      let counter = NOW - 60_000;
      for (let i = 0; i < burst; i++) counter = nextCounter(counter, NOW + skew);
      assert.equal(counter, NOW + skew + burst - 1);
      assert.equal(forgedCounter(withCounter([], 'writer', counter), own, NOW), undefined);
    }),
  );
});
