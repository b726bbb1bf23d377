import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../../../src/sync/protocol/codec';
import type { Hello } from '../../../../src/sync/protocol/messages';
import { ResendBudget } from '../../../../src/sync/replica/resend-budget';
import { Cluster, type Peer } from './engine-harness';

/** Bytes of every index batch `from` sent `to` so far. */
function indexBytes(c: Cluster, from: string, to: string): number {
  return c
    .sent('index')
    .filter((e) => e.from === from && e.to === to)
    .reduce((sum, e) => sum + encodeMessage(e.message).length, 0);
}

/** A hello from `asker` that claims to hold nothing of `victim`'s index. */
function helloFromScratch(asker: Peer, victim: Peer): Hello {
  return {
    type: 'hello',
    indexId: asker.replica.indexId,
    maxSequence: asker.replica.sequence,
    knownIndexId: victim.replica.indexId,
    knownSequence: 0,
    summary: asker.replica.summary(),
    reply: false,
    wholeBlockLists: false,
  };
}

/** The allowance is then one index's worth however small the index, as it is above 1,000 records. */
async function aliceWithFiles(files: number, minResendRecords = 1): Promise<{ c: Cluster; alice: Peer; bob: Peer }> {
  const c = new Cluster({ minResendRecords });
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  for (let i = 0; i < files; i++) c.write('alice', `f${i}.txt`, `file ${i}`);
  await alice.replica.scan();
  await c.connect('alice', 'bob');
  await c.pump();
  assert.equal(bob.replica.neededPaths().length + bob.replica.records().length >= files, true);
  return { c, alice, bob };
}

test('fifty hellos asking for the whole index again get it once more at most, not fifty times', async () => {
  const { c, alice, bob } = await aliceWithFiles(200);
  const first = indexBytes(c, 'alice', 'bob');
  for (let i = 0; i < 50; i++) await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await c.pump();
  const again = indexBytes(c, 'alice', 'bob') - first;
  assert.ok(first > 200 * 20, `the first send carries the index (${first} bytes)`);
  assert.ok(again <= first * 1.1, `sent ${again} bytes again for 50 hellos; the index is ${first}`);
});

test('a resend asked for too soon follows once the allowance has refilled, so nothing is lost', async () => {
  const { c, alice, bob } = await aliceWithFiles(50);
  await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await c.pump();
  const afterOne = indexBytes(c, 'alice', 'bob');
  await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await c.pump();
  assert.equal(indexBytes(c, 'alice', 'bob'), afterOne, 'the second resend within the window waits');
  c.time.advance(61_000);
  await alice.replica.tick();
  await c.pump();
  const late = c
    .sent('index')
    .filter((e) => e.from === 'alice' && e.to === 'bob')
    .at(-1)!.message;
  assert.ok(late.type === 'index' && late.fromSequence === 0 && late.records.length === 50, 'the whole index follows after the window');
});

test('a small index is sent again at once within the floor of the allowance: a peer that read all again twice waits for nothing', async () => {
  const { c, alice, bob } = await aliceWithFiles(50, 1_000);
  await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await c.pump();
  const afterOne = indexBytes(c, 'alice', 'bob');
  await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await c.pump();
  const last = c
    .sent('index')
    .filter((e) => e.from === 'alice' && e.to === 'bob')
    .at(-1)!.message;
  assert.ok(indexBytes(c, 'alice', 'bob') > afterOne, 'the second resend is not held back');
  assert.ok(last.type === 'index' && last.fromSequence === 0 && last.records.length === 50);
});

test('new records still go out at once while a resend waits', async () => {
  const { c, alice, bob } = await aliceWithFiles(20);
  await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await alice.replica.receive('bob', helloFromScratch(bob, alice));
  await c.pump();
  c.write('alice', 'new.txt', 'new');
  await alice.replica.scan();
  await c.pump();
  const last = c
    .sent('index')
    .filter((e) => e.from === 'alice' && e.to === 'bob')
    .at(-1)!.message;
  assert.ok(last.type === 'index' && last.records.map((r) => r.path).includes('new.txt') && last.records.length === 1);
});

test('the allowance: records never sent are free, repeats cost, it refills over the window and outlives sessions', () => {
  const budget = new ResendBudget(60_000);
  assert.equal(budget.repeated('p', 0), undefined, 'nothing sent yet: nothing is repeated');
  budget.sent('p', 100);
  assert.deepEqual(budget.repeated('p', 40), { from: 40, to: 100 });
  assert.equal(budget.repeated('p', 100), undefined);
  assert.equal(budget.take('p', 100, 100, 0), true, 'a full allowance grants a whole index');
  assert.equal(budget.take('p', 100, 100, 1_000), false, 'a second whole index at once is refused');
  assert.equal(budget.take('p', 5, 100, 6_000), true, 'a few records (a gap after a reconnect) go soon after');
  assert.equal(budget.take('p', 100, 100, 66_000), true, 'after the window the allowance is full again');
  assert.equal(budget.take('q', 1_000_000, 100, 66_000), true, 'a request over the whole allowance is granted when it is full');
  assert.equal(budget.take('q', 1, 100, 66_001), false);
});
