import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RateLimit } from '../../../src/server/rate-limit';

const HOUR = 3_600_000;

test('a key takes its whole hourly allowance at once, then one more per share of the hour', () => {
  const limit = new RateLimit(4);
  for (let i = 0; i < 4; i++) assert.ok(limit.take('a', 0), `take ${i}`);
  assert.equal(limit.take('a', 0), false);
  assert.equal(limit.take('a', HOUR / 4 - 1), false, 'not quite a quarter of an hour later');
  assert.ok(limit.take('a', HOUR / 4), 'a quarter of an hour later');
  assert.equal(limit.take('a', HOUR / 4), false);
});

test('keys are limited apart', () => {
  const limit = new RateLimit(1);
  assert.ok(limit.take('a', 0));
  assert.equal(limit.take('a', 0), false);
  assert.ok(limit.take('b', 0));
});

test('a refused take costs nothing, and an idle key refills no further than its allowance', () => {
  const limit = new RateLimit(2);
  assert.ok(limit.take('a', 0));
  assert.ok(limit.take('a', 0));
  for (let i = 0; i < 10; i++) assert.equal(limit.take('a', 0), false);
  assert.ok(limit.take('a', HOUR / 2), 'refused takes did not push the refill back');
  const later = 100 * HOUR;
  assert.ok(limit.take('a', later));
  assert.ok(limit.take('a', later));
  assert.equal(limit.take('a', later), false, 'no more than the allowance after a long idle time');
});

test('it remembers at most maxKeys keys: refilled ones go first, else the oldest', () => {
  const limit = new RateLimit(1, 3);
  assert.ok(limit.take('a', 0));
  assert.ok(limit.take('b', 0));
  assert.ok(limit.take('c', HOUR / 2));
  assert.ok(limit.take('d', HOUR), 'a and b have refilled: both are forgotten');
  assert.equal(limit.size, 2);
  assert.equal(limit.take('c', HOUR), false, 'c is still remembered and spent');
  assert.ok(limit.take('e', HOUR));
  assert.ok(limit.take('f', HOUR), 'nothing refilled: the oldest (c) is forgotten');
  assert.equal(limit.size, 3);
  assert.ok(limit.take('c', HOUR), 'c starts again');
});
