import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { REPLAY_WINDOW, ReplayWindow } from '../../../../src/node/crypto/replay-window';
import { Prng } from '../../../sim/prng';

/** What the window must answer, from the set of every counter received and the highest. */
function expected(received: Set<number>, highest: number, counter: number): boolean {
  return received.has(counter) || (counter <= highest && highest - counter >= REPLAY_WINDOW);
}

test('the ring agrees with the definition over long runs of reordered, duplicated and far-jumping counters', () => {
  const seed = Number(process.env['SEED'] ?? 20261208);
  const random = new Prng(seed);
  const window = new ReplayWindow();
  const received = new Set<number>();
  let highest = -1;
  let next = 0;
  for (let step = 0; step < 200_000; step++) {
    const roll = random.int(100);
    // Mostly new counters a little out of order; some duplicates, some far behind, some far ahead.
    const counter =
      roll < 70
        ? next + random.int(64)
        : roll < 85
          ? Math.max(0, highest - random.int(REPLAY_WINDOW + 64))
          : roll < 99
            ? Math.max(0, next - random.int(8))
            : next + random.int(3 * REPLAY_WINDOW);
    const want = expected(received, highest, counter);
    assert.equal(window.seen(counter), want, `step ${step}, counter ${counter}, highest ${highest} (replay: SEED=${seed})`);
    if (!want) {
      window.mark(counter);
      received.add(counter);
      highest = Math.max(highest, counter);
      if (counter >= next) next = counter + 1;
    }
  }
});

test('a wrap of the ring forgets exactly the counters that left the window', () => {
  const window = new ReplayWindow();
  window.mark(5);
  window.mark(5 + REPLAY_WINDOW - 1);
  assert.equal(window.seen(5), true, 'still inside: seen');
  assert.equal(window.seen(6), false, 'inside and never received');
  window.mark(5 + REPLAY_WINDOW);
  assert.equal(window.seen(5), true, 'left the window: refused as too old');
  assert.equal(window.seen(6), false, 'the slot 5 used is now for 5 + the window, and 6 is still open');
  assert.equal(window.seen(5 + REPLAY_WINDOW), true);
});
