import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from '../../../../src/sync/util/serial-queue';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('steps run one at a time, in the order they were queued', async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  let running = 0;
  const step = (name: string, ticks: number) => async (): Promise<string> => {
    running++;
    assert.equal(running, 1, `${name} overlapped another step`);
    log.push(`start ${name}`);
    for (let i = 0; i < ticks; i++) await tick();
    log.push(`end ${name}`);
    running--;
    return name;
  };
  const results = await Promise.all([queue.run(step('a', 3)), queue.run(step('b', 0)), queue.run(step('c', 1))]);
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('a failing step rejects its own caller only; later steps still run', async () => {
  const queue = new SerialQueue();
  const failed = queue.run(() => Promise.reject(new Error('disk full')));
  const thrown = queue.run(() => {
    throw new Error('bad input');
  });
  const after = queue.run(() => 'ran');
  await assert.rejects(failed, /disk full/);
  await assert.rejects(thrown, /bad input/);
  assert.equal(await after, 'ran');
});

test('pending counts steps not started yet, and idle waits for all of them', async () => {
  const queue = new SerialQueue();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let done = 0;
  void queue.run(() => gate.then(() => done++));
  void queue.run(() => done++).catch(() => undefined);
  void queue.run(() => Promise.reject(new Error('x'))).catch(() => undefined);
  await tick();
  assert.equal(queue.pending, 2);
  const idle = queue.idle();
  release();
  await idle;
  assert.equal(done, 2);
  assert.equal(queue.pending, 0);
});
