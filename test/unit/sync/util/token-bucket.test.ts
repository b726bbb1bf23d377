import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../../../src/sync/util/token-bucket';

test('a bucket allows its burst at once, then its rate', () => {
  const b = new TokenBucket(1000, 250, 0);
  assert.ok(b.take(250, 0));
  assert.ok(!b.take(1, 0));
  assert.ok(!b.take(200, 100), '100 ms refill 100 units, not 200');
  assert.ok(b.take(100, 100));
  assert.ok(b.take(250, 10_000), 'refills up to the burst');
  assert.ok(!b.take(1, 10_000), 'never beyond it');
});

test('spending more than the bucket holds is counted as a debt, paid back at the rate', () => {
  const b = new TokenBucket(1000, 250, 0);
  assert.equal(b.spend(1250, 0), 1000, 'a 1,250-byte frame on a 250 burst: one second of debt');
  assert.equal(b.debtMs(500), 500);
  assert.equal(b.debtMs(1000), 0);
  // Over any long stretch the average stays at the rate, whatever the frame sizes.
  let now = 0;
  let sent = 0;
  for (let i = 0; i < 1000; i++) {
    now += b.debtMs(now);
    b.spend(1 + ((i * 7919) % 3000), now);
    sent += 1 + ((i * 7919) % 3000);
  }
  now += b.debtMs(now);
  const rate = (sent - 250) / (now / 1000); // the first 250 came from the initial burst
  assert.ok(rate <= 1000 * 1.001 && rate > 990, `average ${rate.toFixed(1)} units/s at a 1000/s limit`);
});
