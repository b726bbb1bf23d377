import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, fromUtf8, utf8 } from '../../../../src/sync/util/bytes';
import { mergeConflict } from '../../../../src/sync/replica/conflict-merge';
import type { ReplicaEvent } from '../../../../src/sync/replica/replica-events';
import { SimulatedCrash } from '../../../sim/crash-switch';
import { Cluster } from './engine-harness';

const BASE = 'one\ntwo\nthree\nfour\nfive\n';

function names(c: Cluster, who: string): string[] {
  return c.peers
    .get(who)!
    .store.snapshot()
    .map((e) => e.path);
}

/** Every pair of `c`'s replicas connects and settles on `path` at `base`, then all part. */
async function syncThenPart(c: Cluster, base: string | Uint8Array, path = 'notes.txt'): Promise<void> {
  const who = [...c.peers.keys()];
  c.write(who[0]!, path, base);
  const pairs = who.flatMap((a, i) => who.slice(i + 1).map((b) => [a, b] as const));
  for (const [a, b] of pairs) await c.connect(a, b);
  await c.settle();
  for (const [a, b] of pairs) await c.disconnect(a, b);
}

/** alice and bob share `path` at `base`, then each writes their own version while apart; then they meet. */
async function editApart(
  base: string | Uint8Array,
  alice: string | Uint8Array,
  bob: string | Uint8Array,
  path = 'notes.txt',
): Promise<Cluster> {
  const c = new Cluster();
  await c.add('alice');
  await c.add('bob');
  await syncThenPart(c, base, path);
  c.time.advance(5_000);
  c.write('alice', path, alice);
  c.time.advance(5_000);
  c.write('bob', path, bob);
  await c.settle();
  await c.connect('alice', 'bob');
  await c.settle();
  return c;
}

function events(c: Cluster, kind: ReplicaEvent['kind']): { who: string; event: ReplicaEvent }[] {
  return [...c.peers.values()].flatMap((p) => p.events.filter((e) => e.kind === kind).map((event) => ({ who: p.name, event })));
}

test('edits of different lines made apart end as one merged file on both replicas, no copy, no conflict listed', async () => {
  const c = await editApart(BASE, 'one, by alice\ntwo\nthree\nfour\nfive\n', 'one\ntwo\nthree\nfour\nfive, by bob\n');
  for (const who of ['alice', 'bob']) {
    assert.deepEqual(names(c, who), ['notes.txt'], who);
    assert.equal(c.read(who, 'notes.txt'), 'one, by alice\ntwo\nthree\nfour\nfive, by bob\n', who);
    assert.deepEqual(c.peers.get(who)!.replica.conflicts(), [], who);
  }
  const merged = events(c, 'merged');
  // bob's edit is later and wins; alice holds the losing bytes, so she alone makes the copy and merges it.
  assert.deepEqual(
    merged.map(({ who, event }) => [
      who,
      event.kind === 'merged' && event.path,
      event.kind === 'merged' && event.copyPath.startsWith('notes.conflict-alice-'),
    ]),
    [['alice', 'notes.txt', true]],
  );
  assert.deepEqual(c.peers.get('alice')!.replica.summary(), c.peers.get('bob')!.replica.summary());
  // Nothing lost: both sides' versions are in alice's versions folder.
  const kept = c.peers
    .get('alice')!
    .store.versions()
    .map((v) => fromUtf8(v.data));
  assert.ok(kept.includes('one, by alice\ntwo\nthree\nfour\nfive\n'), kept.join(' | '));
  assert.ok(kept.includes('one\ntwo\nthree\nfour\nfive, by bob\n'), kept.join(' | '));
});

test('overlapping edits keep the winner and the conflict copy, as before', async () => {
  const c = await editApart(BASE, 'one\ntwo, by alice\nthree\nfour\nfive\n', 'one\ntwo, by bob\nthree\nfour\nfive\n');
  for (const who of ['alice', 'bob']) {
    const files = names(c, who);
    assert.equal(files.length, 2, files.join(', '));
    assert.equal(c.read(who, 'notes.txt'), 'one\ntwo, by bob\nthree\nfour\nfive\n');
    const copy = files.find((n) => n.startsWith('notes.conflict-alice-'))!;
    assert.equal(c.read(who, copy), 'one\ntwo, by alice\nthree\nfour\nfive\n');
    assert.equal(c.peers.get(who)!.replica.conflicts().length, 1);
  }
  assert.deepEqual(events(c, 'merged'), []);
});

test('binary files keep the conflict copy', async () => {
  const bin = (text: string): Uint8Array => {
    const b = utf8(text);
    b[3] = 0;
    return b;
  };
  const c = await editApart(
    bin(BASE),
    bin('one, by alice\ntwo\nthree\nfour\nfive\n'),
    bin('one\ntwo\nthree\nfour\nfive, by bob\n'),
    'data.bin',
  );
  for (const who of ['alice', 'bob']) assert.equal(names(c, who).length, 2, names(c, who).join(', '));
  assert.deepEqual(events(c, 'merged'), []);
});

test('without the base both sides started from, the conflict copy stays', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  await c.add('bob');
  await syncThenPart(c, BASE);
  await alice.store.dropBases(await alice.store.listBases());
  // A fresh replica object: what the store holds is all it knows of its bases.
  alice.replica = await c.open(alice);
  c.time.advance(5_000);
  c.write('alice', 'notes.txt', 'one, by alice\ntwo\nthree\nfour\nfive\n');
  c.time.advance(5_000);
  c.write('bob', 'notes.txt', 'one\ntwo\nthree\nfour\nfive, by bob\n');
  await alice.replica.scan();
  await c.connect('alice', 'bob');
  await c.settle();
  for (const who of ['alice', 'bob']) assert.equal(names(c, who).length, 2, names(c, who).join(', '));
  assert.deepEqual(events(c, 'merged'), []);
});

test('a replica that may not merge (a reader) keeps the conflict copy it made', async () => {
  const c = new Cluster({ mergesEdits: (peer) => peer !== 'bob' });
  await c.add('alice');
  await c.add('bob');
  await syncThenPart(c, BASE);
  c.time.advance(5_000);
  c.write('bob', 'notes.txt', 'one, by bob\ntwo\nthree\nfour\nfive\n');
  c.time.advance(5_000);
  c.write('alice', 'notes.txt', 'one\ntwo\nthree\nfour\nfive, by alice\n');
  await c.settle();
  await c.connect('alice', 'bob');
  await c.settle();
  // alice's edit is later and wins; bob holds the losing bytes and makes the copy, but does not merge.
  for (const who of ['alice', 'bob']) {
    assert.equal(names(c, who).length, 2, names(c, who).join(', '));
    assert.equal(c.read(who, 'notes.txt'), 'one\ntwo\nthree\nfour\nfive, by alice\n');
  }
  assert.deepEqual(events(c, 'merged'), []);
});

test('a copy edited before the merge is written is never merged over', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  await syncThenPart(c, BASE);
  c.time.advance(5_000);
  c.write('alice', 'notes.txt', 'one, by alice\ntwo\nthree\nfour\nfive\n');
  await alice.replica.scan();
  c.time.advance(5_000);
  c.write('bob', 'notes.txt', 'one\ntwo\nthree\nfour\nfive, by bob\n');
  await bob.replica.scan();
  await c.connect('alice', 'bob');
  // alice makes the copy from her own bytes at once; bob's bytes are still on their way.
  await c.pumpUntil(() => alice.replica.conflicts().length === 1 && !alice.replica.neededPaths().some((p) => p.includes('.conflict-')));
  const copy = alice.replica.conflicts()[0]!.copyPath;
  assert.ok(alice.replica.neededPaths().includes('notes.txt'), "the winner is not on alice's disk yet");
  c.write('alice', copy, 'alice kept working in the copy\n');
  await c.settle();
  for (const who of ['alice', 'bob']) {
    assert.equal(c.read(who, 'notes.txt'), 'one\ntwo\nthree\nfour\nfive, by bob\n');
    assert.equal(c.read(who, copy), 'alice kept working in the copy\n');
  }
  assert.deepEqual(events(c, 'merged'), []);
});

test('three replicas: every one ends with the same merged file, and a third edit made apart merges in too', async () => {
  const c = new Cluster();
  await c.add('alice');
  await c.add('bob');
  await c.add('carol');
  await syncThenPart(c, BASE);
  c.time.advance(5_000);
  c.write('alice', 'notes.txt', 'one, by alice\ntwo\nthree\nfour\nfive\n');
  c.time.advance(5_000);
  c.write('bob', 'notes.txt', 'one\ntwo\nthree, by bob\nfour\nfive\n');
  c.time.advance(5_000);
  c.write('carol', 'notes.txt', 'one\ntwo\nthree\nfour\nfive, by carol\n');
  await c.settle();
  await c.connect('alice', 'bob');
  await c.connect('alice', 'carol');
  await c.connect('bob', 'carol');
  await c.settle();
  for (const who of ['alice', 'bob', 'carol']) {
    assert.deepEqual(names(c, who), ['notes.txt'], who);
    assert.equal(c.read(who, 'notes.txt'), 'one, by alice\ntwo\nthree, by bob\nfour\nfive, by carol\n', who);
  }
});

test('a crash at any point of resolving and merging leaves the conflict or the merge, never a loss', async () => {
  const aliceText = 'one, by alice\ntwo\nthree\nfour\nfive\n';
  const bobText = 'one\ntwo\nthree\nfour\nfive, by bob\n';
  const mergedText = 'one, by alice\ntwo\nthree\nfour\nfive, by bob\n';
  const outcomes = new Map<string, number>();
  for (let n = 0; ; n++) {
    const c = new Cluster();
    const alice = await c.add('alice');
    const bob = await c.add('bob');
    await syncThenPart(c, BASE);
    c.time.advance(5_000);
    c.write('alice', 'notes.txt', aliceText);
    await alice.replica.scan();
    c.time.advance(5_000);
    c.write('bob', 'notes.txt', bobText);
    await bob.replica.scan();
    alice.crash.armAfter(n);
    let crashed = false;
    try {
      await c.connect('alice', 'bob');
      await c.settle();
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
      crashed = true;
    }
    if (!crashed) break;
    alice.crash.reset();
    alice.store.dropTemps();
    alice.replica = await c.open(alice);
    await c.disconnect('alice', 'bob');
    await c.connect('alice', 'bob');
    await c.settle();
    const label = `crash after ${n} operations`;
    assert.deepEqual(alice.store.snapshot(), bob.store.snapshot(), `${label}: the trees agree`);
    const files = names(c, 'alice');
    const texts = files.map((f) => c.read('alice', f));
    const outcome = files.length === 1 && texts[0] === mergedText ? 'merged' : files.length === 2 ? 'conflict' : 'other';
    assert.notEqual(outcome, 'other', `${label}: ${files.join(', ')}`);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    for (const [who, text] of [
      ['alice', aliceText],
      ['bob', bobText],
    ] as const) {
      const kept = [...alice.store.versions(), ...bob.store.versions()].map((v) => fromUtf8(v.data));
      assert.ok(texts.includes(text) || kept.includes(text), `${label}: ${who}'s edit is kept`);
      assert.ok(
        texts.some((t) => t!.includes(`, by ${who}`)),
        `${label}: ${who}'s edit is in the folder`,
      );
    }
    assert.equal(alice.store.tempCount(), 0, `${label}: no temp file left`);
  }
  assert.ok((outcomes.get('merged') ?? 0) > 0, JSON.stringify([...outcomes]));
});

test("mergeConflict: one side switching every line break to CRLF still merges with the other side's edit", () => {
  const base = utf8('one\ntwo\nthree\n');
  const crlf = utf8('one\r\ntwo\r\nthree\r\n');
  const edited = utf8('one\ntwo\nthree\nfour\n');
  assert.equal(fromUtf8(mergeConflict(base, crlf, edited)!), 'one\r\ntwo\r\nthree\r\nfour\r\n');
  assert.equal(fromUtf8(mergeConflict(base, edited, crlf)!), 'one\r\ntwo\r\nthree\r\nfour\r\n');
  // CRLF files merge as they are.
  const b2 = utf8('a\r\nb\r\nc\r\nd\r\n');
  assert.equal(fromUtf8(mergeConflict(b2, utf8('A\r\nb\r\nc\r\nd\r\n'), utf8('a\r\nb\r\nc\r\nD\r\n'))!), 'A\r\nb\r\nc\r\nD\r\n');
});

test('mergeConflict: binary, invalid UTF-8, over the limit or overlapping gives no merge', () => {
  const base = utf8(BASE);
  const a = utf8('one!\ntwo\nthree\nfour\nfive\n');
  const b = utf8('one\ntwo\nthree\nfour\nfive!\n');
  assert.ok(mergeConflict(base, a, b));
  assert.equal(mergeConflict(base, a, new Uint8Array([...b, 0])), undefined);
  assert.equal(mergeConflict(base, a, new Uint8Array([...b, 0xff])), undefined);
  assert.equal(mergeConflict(base, a, b, 10), undefined);
  assert.equal(mergeConflict(base, a, utf8('one?\ntwo\nthree\nfour\nfive\n')), undefined);
});

test('an open text conflict names who wrote each side, when, and the base both started from', async () => {
  const c = await editApart(BASE, 'one\ntwo, by alice\nthree\nfour\nfive\n', 'one\ntwo, by bob\nthree\nfour\nfive\n');
  for (const who of ['alice', 'bob']) {
    const replica = c.peers.get(who)!.replica;
    const [conflict] = replica.conflicts();
    assert.ok(conflict, who);
    assert.equal(conflict.path, 'notes.txt');
    // bob's edit came later and stays at the path; alice's is the copy.
    assert.equal(conflict.fileAuthor?.name, 'bob', who);
    assert.equal(conflict.copyAuthor.name, 'alice', who);
    assert.equal(conflict.fileAuthor?.at, replica.record('notes.txt')!.mtime);
    assert.equal(conflict.copyAuthor.at, replica.record(conflict.copyPath)!.mtime);
    assert.ok(conflict.copyAuthor.at < conflict.fileAuthor!.at);
    assert.match(conflict.base ?? '', /^[0-9a-f]{64}$/, `${who} names the base`);
    assert.equal(fromUtf8((await replica.readBase(fromHex(conflict.base!)))!), BASE, `${who} keeps the base's bytes`);
  }
});

test('no base for a binary conflict, nor once a side was edited again', async () => {
  const bin = (text: string): Uint8Array => {
    const b = utf8(text);
    b[3] = 0;
    return b;
  };
  const binary = await editApart(bin(BASE), bin('one, by alice\ntwo\n'), bin('one, by bob\ntwo\n'), 'data.bin');
  for (const who of ['alice', 'bob']) assert.equal(binary.peers.get(who)!.replica.conflicts()[0]?.base, undefined, who);

  const c = await editApart(BASE, 'one\ntwo, by alice\nthree\nfour\nfive\n', 'one\ntwo, by bob\nthree\nfour\nfive\n');
  assert.ok(c.peers.get('alice')!.replica.conflicts()[0]?.base);
  // Bob touches up the file at the path: its ancestor is now the conflict's winner, not the common version.
  c.write('bob', 'notes.txt', 'one\ntwo, by bob, again\nthree\nfour\nfive\n');
  await c.settle();
  for (const who of ['alice', 'bob']) {
    const [conflict] = c.peers.get(who)!.replica.conflicts();
    assert.ok(conflict, `${who} still lists the conflict`);
    assert.equal(conflict.base, undefined, `${who}: the sides no longer start from one version`);
  }
});

test('bytes no merge takes get no merge base: a text that is not UTF-8, a binary file', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  await c.add('bob');
  const latin1 = utf8('caf\u00e9\nnaive\n')
    .map((b) => (b === 0xc3 ? 0xe9 : b))
    .filter((b) => b !== 0xa9);
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(latin1));
  c.write('alice', 'latin1.txt', latin1);
  c.write('alice', 'data.bin', new Uint8Array([1, 0, 2, 0]));
  await syncThenPart(c, BASE);
  const kept = await alice.store.listBases();
  assert.equal(kept.length, 1, 'notes.txt alone');
  for (const key of kept) assert.equal(fromUtf8((await alice.store.getBase(key))!), BASE);
});

test('a base the store lost or holds other bytes for: the conflict copy stays, nothing throws', async () => {
  const c = new Cluster();
  const alice = await c.add('alice');
  await c.add('bob');
  await syncThenPart(c, BASE);
  const [key] = await alice.store.listBases();
  // Other bytes under the base's hash: read back, they fail the hash check.
  await alice.store.putBases([{ hash: key!, data: utf8('one\ntwo\n') }]);
  c.time.advance(5_000);
  c.write('alice', 'notes.txt', 'one, by alice\ntwo\nthree\nfour\nfive\n');
  c.time.advance(5_000);
  c.write('bob', 'notes.txt', 'one\ntwo\nthree\nfour\nfive, by bob\n');
  await c.settle();
  await c.connect('alice', 'bob');
  await c.settle();
  for (const who of ['alice', 'bob']) assert.equal(names(c, who).length, 2, names(c, who).join(', '));
  assert.deepEqual(events(c, 'merged'), []);
  assert.ok(!(await alice.store.listBases()).includes(key!), 'the broken base is forgotten');
});

test('a replica that never merges (a reader) keeps no merge bases; once it may merge, it keeps them', async () => {
  let bobMerges = false;
  const c = new Cluster({ mergesEdits: (peer) => peer !== 'bob' || bobMerges });
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  c.write('alice', 'other.txt', 'another text\n');
  await syncThenPart(c, BASE);
  assert.equal((await alice.store.listBases()).length, 2);
  assert.deepEqual(await bob.store.listBases(), []);
  bobMerges = true;
  await bob.replica.tick();
  assert.deepEqual((await bob.store.listBases()).sort(), (await alice.store.listBases()).sort());
  // And a merge made with them, bob's edit losing to alice's later one.
  c.time.advance(5_000);
  c.write('bob', 'notes.txt', 'one, by bob\ntwo\nthree\nfour\nfive\n');
  c.time.advance(5_000);
  c.write('alice', 'notes.txt', 'one\ntwo\nthree\nfour\nfive, by alice\n');
  await c.settle();
  await c.connect('alice', 'bob');
  await c.settle();
  for (const who of ['alice', 'bob']) assert.equal(c.read(who, 'notes.txt'), 'one, by bob\ntwo\nthree\nfour\nfive, by alice\n');
  assert.deepEqual(
    events(c, 'merged').map((e) => e.who),
    ['bob'],
  );
});
