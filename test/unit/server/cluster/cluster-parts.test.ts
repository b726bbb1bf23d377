import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEnvelope, encodeEnvelope } from '../../../../src/server/cluster/bus-messages';
import { MessageAssembly, splitBytes } from '../../../../src/server/cluster/message-parts';
import { NodeTable } from '../../../../src/server/cluster/node-table';

test('an envelope keeps its sender, incarnation, message and body; a damaged one throws', () => {
  const body = new Uint8Array([1, 2, 3, 250]);
  const bytes = encodeEnvelope('n1', 'abc', { k: 'relays', frames: [[7, 'd', 4]] }, body);
  const back = decodeEnvelope(bytes);
  assert.equal(back.from, 'n1');
  assert.equal(back.inc, 'abc');
  assert.deepEqual(back.message, { k: 'relays', frames: [[7, 'd', 4]] });
  assert.deepEqual([...back.body], [...body]);
  assert.throws(() => decodeEnvelope(bytes.subarray(0, 3)));
  assert.throws(() => decodeEnvelope(bytes.subarray(0, 10)));
  assert.throws(() => decodeEnvelope(new Uint8Array([0, 0, 0, 9, 123])), 'a header longer than the message');
  assert.throws(() => decodeEnvelope(new Uint8Array([0, 0, 0, 2, 123, 125])), 'a header without sender or kind');
});

test('parts put back together make the message; out of order, repeated or over the bound, nothing', () => {
  const whole = new Uint8Array(10_000).map((_, i) => i % 251);
  const parts = splitBytes(whole, 3000);
  assert.deepEqual(
    parts.map((p) => p.length),
    [3000, 3000, 3000, 1000],
  );
  const assembly = new MessageAssembly(1 << 20, 30_000);
  let out: Uint8Array | undefined;
  parts.forEach((p, i) => {
    const got = assembly.add('a', i, parts.length, p, 0);
    if (i < parts.length - 1) assert.equal(got, undefined);
    else out = got;
  });
  assert.deepEqual(out, whole);
  assert.equal(assembly.held, 0);
  // A message met past its first part lost that part: it is never complete.
  assert.equal(assembly.add('b', 1, 2, parts[1]!, 0), undefined);
  assert.equal(assembly.add('b', 0, 2, parts[0]!, 0), undefined);
  assert.equal(assembly.add('b', 0, 2, parts[0]!, 0), undefined, 'a repeated part');
  assert.equal(assembly.held, 3000);
  // Over the bound: the message is dropped, and its memory with it.
  const small = new MessageAssembly(5000, 30_000);
  assert.equal(small.add('c', 0, 3, parts[0]!, 0), undefined);
  assert.equal(small.add('c', 1, 3, parts[1]!, 0), undefined);
  assert.equal(small.held, 0);
  assert.equal(small.add('c', 2, 3, parts[2]!, 0), undefined);
  // Parts that stop coming are dropped after the timeout.
  const slow = new MessageAssembly(1 << 20, 100);
  slow.add('d', 0, 2, parts[0]!, 0);
  assert.equal(slow.held, 3000);
  slow.add('e', 0, 2, parts[0]!, 101);
  assert.equal(slow.held, 3000, "d's part is gone, e's is held");
  assert.equal(slow.add('d', 1, 2, parts[1]!, 102), undefined);
  // Nonsense numbering is ignored.
  assert.equal(slow.add('f', 2, 2, parts[0]!, 0), undefined);
  assert.equal(slow.add('f', 0, 0, parts[0]!, 0), undefined);
});

test('the node table: new, known and restarted processes, gaps, lags and the silent ones', () => {
  const nodes = new NodeTable();
  assert.equal(nodes.heard('a', 'i1', 0), 'new');
  assert.equal(nodes.heard('a', 'i1', 500), 'known');
  assert.equal(nodes.event('a', 1), 'next');
  assert.equal(nodes.event('a', 1), 'stale', 'a repeat');
  assert.equal(nodes.event('a', 3), 'gap', 'event 2 was missed');
  assert.equal(nodes.behind('a', 3), false);
  assert.equal(nodes.behind('a', 4), true, 'a beat after a missed event');
  nodes.snapshotAt('a', 10);
  assert.equal(nodes.event('a', 9), 'stale', 'older than the snapshot');
  assert.equal(nodes.event('a', 11), 'next');
  assert.equal(nodes.heard('a', 'i2', 600), 'restarted');
  assert.equal(nodes.event('a', 1), 'next', 'a restarted process counts from the start');
  assert.equal(nodes.heard('b', 'j', 1000), 'new');
  assert.equal(nodes.size, 2);
  assert.deepEqual(nodes.expire(3601, 3, 1000), ['a']);
  assert.equal(nodes.size, 1);
  assert.equal(nodes.heard('a', 'i2', 3700), 'new', 'declared dead, then heard again');
  // A process is judged by its own heartbeat interval once it has said it.
  nodes.beatsEvery('b', 5000);
  assert.deepEqual(nodes.expire(10_000, 3, 1000), ['a'], 'b beats every 5 s: 9 s of silence is under three beats');
  assert.deepEqual(nodes.expire(16_001, 3, 1000), ['b']);
});
