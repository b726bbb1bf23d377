import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StoreError } from '../../../../src/sync/ports/ports';
import { VERIFY_ASIDE_BYTES } from '../../../../src/sync/replica/installer';
import { Cluster, type Peer } from './engine-harness';

/** Steps handed to a replica and not awaited: awaited at the end, so that an error in one fails the test. */
const inFlight: Promise<void>[] = [];

/** Lets the replicas run, posting what they send, until `done` holds or the turns run out. */
async function runUntil(c: Cluster, done: () => boolean, turns = 2_000): Promise<boolean> {
  for (let i = 0; i < turns && !done(); i++) {
    inFlight.push(...c.post());
    await nextTurn();
  }
  return done();
}

/** As `Cluster.settle`, letting work off the replicas' queues (verifying big files) finish between rounds. */
async function settle(c: Cluster, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const moved = await c.round();
    await nextTurn();
    if (moved === 0 && [...c.peers.values()].every((p) => p.replica.neededPaths().length === 0)) return;
  }
  throw new Error('cluster did not settle');
}

async function aliceAndBob(): Promise<{ c: Cluster; alice: Peer; bob: Peer }> {
  const c = new Cluster();
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  await c.connect('alice', 'bob');
  await c.pump();
  return { c, alice, bob };
}

test('while a big file is read back to verify it, other files install and hellos are answered', async () => {
  const { c, alice, bob } = await aliceAndBob();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let reading = false;
  bob.store.holdTempReads = (path) => {
    if (path !== 'zeros.img') return undefined;
    reading = true;
    return held;
  };
  // Genuine content: 4 MiB of zeros is one block repeated, so it arrives at once and is then read back whole.
  c.write('alice', 'zeros.img', new Uint8Array(VERIFY_ASIDE_BYTES));
  await alice.replica.scan();
  assert.ok(await runUntil(c, () => reading), 'bob starts reading the big file back');

  c.write('alice', 'small.txt', 'arrives meanwhile');
  inFlight.push(alice.replica.scan().then(() => undefined));
  const installed = await runUntil(c, () => c.read('bob', 'small.txt') !== undefined);
  assert.ok(installed, 'small.txt is installed while zeros.img is verified');

  const hello = c.sent('hello').find((e) => e.from === 'alice' && e.message.type === 'hello' && !e.message.reply)!;
  const before = c.sent('hello').filter((e) => e.from === 'bob').length;
  inFlight.push(bob.replica.receive('alice', hello.message));
  const answered = await runUntil(c, () => c.sent('hello').filter((e) => e.from === 'bob').length > before);
  assert.ok(answered, 'bob answers a hello while zeros.img is verified');
  assert.equal(c.read('bob', 'zeros.img'), undefined, 'the big file is not in place before it is verified');

  release();
  assert.ok(await runUntil(c, () => bob.store.readUser('zeros.img')?.length === VERIFY_ASIDE_BYTES), 'the big file comes once verified');
  await Promise.all(inFlight.splice(0));
  await settle(c);
  assert.equal(bob.store.tempCount(), 0, 'no temp file is left');
});

test('a big file that fails its verification off the queue backs off, shows in status, and comes later', async () => {
  const { c, alice, bob } = await aliceAndBob();
  let failures = 1;
  bob.store.holdTempReads = (path) =>
    path === 'zeros.img' && failures-- > 0 ? Promise.reject(new StoreError('io', path, 'the disk could not read it back')) : undefined;
  c.write('alice', 'zeros.img', new Uint8Array(VERIFY_ASIDE_BYTES));
  await alice.replica.scan();
  assert.ok(await runUntil(c, () => bob.replica.errors().has('zeros.img')), 'the failure is reported');
  const problem = bob.replica.errors().get('zeros.img')!;
  assert.equal(problem.code, 'io');
  assert.match(problem.message, /did not match its content hash; it will be fetched again; next try in 1 s/);
  assert.equal(bob.store.tempCount(), 0, 'the failed temp file is discarded');
  assert.equal(c.read('bob', 'zeros.img'), undefined);
  await Promise.all(inFlight.splice(0));
  await settle(c);
  assert.equal(bob.store.readUser('zeros.img')?.length, VERIFY_ASIDE_BYTES, 'the next try installs it');
  assert.equal(bob.replica.errors().has('zeros.img'), false);
});
