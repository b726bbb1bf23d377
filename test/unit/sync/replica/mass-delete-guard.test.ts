import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MASS_DELETE, isMassDelete } from '../../../../src/sync/replica/mass-delete-guard';
import { Cluster } from './engine-harness';

test('isMassDelete: every file gone pauses at any size; otherwise only most of a large folder', () => {
  assert.equal(isMassDelete(3, 3, DEFAULT_MASS_DELETE), true, 'a 3-file folder emptied');
  assert.equal(isMassDelete(1, 1, DEFAULT_MASS_DELETE), true, 'the only file');
  assert.equal(isMassDelete(3, 2, DEFAULT_MASS_DELETE), false, 'some files of a small folder');
  assert.equal(isMassDelete(0, 0, DEFAULT_MASS_DELETE), false);
  assert.equal(isMassDelete(200, 101, DEFAULT_MASS_DELETE), true, 'most of a large folder');
  assert.equal(isMassDelete(200, 100, DEFAULT_MASS_DELETE), false, 'half of it is not most');
  assert.equal(isMassDelete(99, 60, DEFAULT_MASS_DELETE), false, 'below the size of the share rule');
  // Files still to fetch are not on the disk to be deleted: emptying what is there is all of it.
  assert.equal(isMassDelete(10, 4, DEFAULT_MASS_DELETE, 4), true);
  assert.equal(isMassDelete(10, 3, DEFAULT_MASS_DELETE, 4), false);
});

test('a 3-file folder emptied pauses; nothing is deleted elsewhere until the user confirms', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  for (const name of ['a.txt', 'b.txt', 'c.txt']) c.write('alice', name, name);
  alice.store.userMkdir('docs', 0);
  await c.connect('alice', 'bob');
  await c.settle();
  for (const name of ['a.txt', 'b.txt', 'c.txt']) bob.store.userDelete(name);
  const report = await bob.replica.scan();
  assert.equal(report.state, 'paused');
  const paused = bob.events.find((e) => e.kind === 'paused');
  assert.deepEqual(paused && paused.kind === 'paused' ? [paused.deletes, paused.liveFiles] : [], [3, 3]);
  // Time passes, ticks and rescans: still nothing.
  await c.round();
  await c.round();
  assert.equal(bob.replica.state(), 'paused');
  assert.ok(!c.log.some((e) => e.message.type === 'index' && e.message.records.some((r) => r.deleted)), 'no delete was sent');
  assert.deepEqual(
    alice.store.snapshot().map((e) => e.path),
    ['a.txt', 'b.txt', 'c.txt', 'docs'],
  );

  await bob.replica.resolveMassDelete('delete');
  await c.settle();
  assert.deepEqual(
    alice.store.snapshot().map((e) => e.path),
    ['docs'],
    'confirmed: the deletes flow',
  );
  assert.deepEqual(
    bob.store.snapshot().map((e) => e.path),
    ['docs'],
  );
});

test('an emptied folder restored: the files come back from the peer', async () => {
  const c = new Cluster();
  await c.add('alice');
  const bob = await c.add('bob');
  for (const name of ['a.txt', 'b.txt']) c.write('alice', name, name);
  await c.connect('alice', 'bob');
  await c.settle();
  for (const name of ['a.txt', 'b.txt']) bob.store.userDelete(name);
  assert.equal((await bob.replica.scan()).state, 'paused');
  await bob.replica.resolveMassDelete('restore');
  await c.settle();
  assert.equal(c.read('bob', 'a.txt'), 'a.txt');
  assert.equal(c.read('bob', 'b.txt'), 'b.txt');
  assert.equal(c.read('alice', 'a.txt'), 'a.txt');
});

test('deleting some files of a small folder flows as before', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  for (const name of ['a.txt', 'b.txt', 'c.txt']) c.write('alice', name, name);
  await c.connect('alice', 'bob');
  await c.settle();
  bob.store.userDelete('a.txt');
  bob.store.userDelete('b.txt');
  assert.equal((await bob.replica.scan()).state, 'idle');
  await c.settle();
  assert.deepEqual(
    alice.store.snapshot().map((e) => e.path),
    ['c.txt'],
  );
});

test('files moved into a folder are no delete, even when none is left at the root', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  await c.add('bob');
  for (const name of ['a.txt', 'b.txt']) c.write('alice', name, name);
  await c.connect('alice', 'bob');
  await c.settle();
  alice.store.userMkdir('moved', 0);
  alice.store.userRename('a.txt', 'moved/a.txt');
  alice.store.userRename('b.txt', 'moved/b.txt');
  assert.equal((await alice.replica.scan()).state, 'idle');
  await c.settle();
  assert.equal(c.read('bob', 'moved/a.txt'), 'a.txt');
});
