import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileRecord } from '../../../../src/sync/model/file-record';
import type { IndexBatch } from '../../../../src/sync/protocol/messages';
import { MAX_COUNTER_LEAD_MS } from '../../../../src/sync/model/vector-guard';
import type { ReplicaEvent } from '../../../../src/sync/replica/replica-events';
import { bareRecord, Cluster } from './engine-harness';

/** alice with a file, bob connected to her and caught up. */
async function aliceAndBob(): Promise<Cluster> {
  const c = new Cluster();
  await c.add('alice');
  await c.add('bob');
  c.write('alice', 'doc.txt', 'alice wrote this');
  await c.connect('alice', 'bob');
  await c.settle();
  return c;
}

function refusals(c: Cluster, who: string): Extract<ReplicaEvent, { kind: 'error' }>[] {
  return c.peers.get(who)!.events.filter((e): e is Extract<ReplicaEvent, { kind: 'error' }> => e.kind === 'error');
}

/** An index batch covering (from, to] of `indexId`, whose sender is at `max`. */
function batch(indexId: string, from: number, to: number, records: readonly FileRecord[], max = to): IndexBatch {
  return { type: 'index', indexId, fromSequence: from, toSequence: to, maxSequence: max, records };
}

const dir = (path: string, sequence: number, counter: number): FileRecord =>
  bareRecord(path, sequence, { version: [{ id: 'mallory', counter }] });

test("a record claiming the receiver's own counter, relayed by a member who took it, is refused, named by sender, and outbid", async () => {
  const c = await aliceAndBob();
  const alice = c.peers.get('alice')!;
  const bob = c.peers.get('bob')!;
  const mallory = await c.add('mallory');
  await c.connect('bob', 'mallory');
  await c.settle();
  const now = c.time.now();
  // Within the clock's lead: bob cannot tell it from alice's own and takes it; only alice can.
  const claim = [{ id: alice.replica.indexId, counter: now + 60_000 }];
  // mallory's batch follows on from what bob holds of mallory's index.
  const at = mallory.replica.sequence;
  const poison = bareRecord('doc.txt', at + 2, { type: 'file', deleted: true, version: claim });
  const banned = bareRecord('banned.txt', at + 3, { type: 'file', deleted: true, version: claim });
  await bob.replica.receive(
    'mallory',
    batch(mallory.replica.indexId, at, at + 4, [dir('good-1', at + 1, now), poison, banned, dir('good-2', at + 4, now)]),
  );
  await c.settle();
  assert.deepEqual(
    refusals(c, 'alice').map((e) => [e.path, e.problem.code, e.problem.source, e.peer]),
    [
      ['doc.txt', 'forgedVersion', 'remote', 'bob'],
      ['banned.txt', 'forgedVersion', 'remote', 'bob'],
    ],
  );
  assert.ok(alice.replica.record('good-1') && alice.replica.record('good-2'), 'the good records of the batch apply');
  // alice issued her version again above the claim: it is back at bob.
  assert.equal(c.read('alice', 'doc.txt'), 'alice wrote this');
  assert.equal(c.read('bob', 'doc.txt'), 'alice wrote this');

  // alice's later edits and new files win, here and at every member.
  c.time.advance(1000);
  c.write('alice', 'doc.txt', 'alice edits after the attack');
  c.write('alice', 'banned.txt', 'a new file');
  await c.settle();
  for (const who of ['alice', 'bob', 'mallory']) {
    assert.equal(c.read(who, 'doc.txt'), 'alice edits after the attack', who);
    assert.equal(c.read(who, 'banned.txt'), 'a new file', who);
  }
});

test('a record with any counter far ahead of the clock is refused; one within the lead is taken', async () => {
  const c = await aliceAndBob();
  const bob = c.peers.get('bob')!;
  const now = c.time.now();
  const records = [dir('far', 1, now + MAX_COUNTER_LEAD_MS + 1), dir('near', 2, now + MAX_COUNTER_LEAD_MS)];
  await bob.replica.receive('alice', batch('mallory-relayed', 0, 2, records));
  await c.settle();
  assert.deepEqual(
    refusals(c, 'bob').map((e) => [e.path, e.problem.code, e.peer]),
    [['far', 'forgedVersion', 'alice']],
  );
  assert.match(refusals(c, 'bob')[0]!.problem.message, /ahead of this device's clock/);
  assert.equal(bob.replica.record('far'), undefined);
  assert.ok(bob.replica.record('near'));
});

test('bad paths in a batch are each refused with their own problem; the rest and the next batch apply', async () => {
  const c = await aliceAndBob();
  const bob = c.peers.get('bob')!;
  const now = c.time.now();
  const records = [dir('ok-1', 1, now), dir('../x', 2, now), dir('/x', 3, now), dir('./x', 4, now), dir('ok-2', 5, now)];
  await bob.replica.receive('alice', batch('mallory-relayed', 0, 5, records, 6));
  await bob.replica.receive('alice', batch('mallory-relayed', 5, 6, [dir('ok-3', 6, now)]));
  await c.settle();
  assert.deepEqual(
    refusals(c, 'bob').map((e) => [e.path, e.problem.code, e.peer]),
    [
      ['../x', 'dotSegment', 'alice'],
      ['/x', 'absolute', 'alice'],
      ['./x', 'dotSegment', 'alice'],
    ],
  );
  for (const path of ['ok-1', 'ok-2', 'ok-3']) assert.ok(bob.replica.record(path), path);
});
