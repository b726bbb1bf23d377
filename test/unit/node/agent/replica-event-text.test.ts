import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeReplicaEvent } from '../../../../src/node/agent/replica-event-text';
import { bareRecord } from '../../sync/replica/engine-harness';

test('replica events read as one line each, never as raw JSON', () => {
  const lines = [
    describeReplicaEvent({ kind: 'reRooted', reason: 'noIdentity' }),
    describeReplicaEvent({ kind: 'reRooted', reason: 'foreignMarker' }),
    describeReplicaEvent({
      kind: 'merged',
      path: 'notes.md',
      copyPath: 'notes.conflict-bob-20261207-120000.md',
      record: bareRecord('notes.md', 3, { type: 'file', modifiedBy: 'alice' }),
      winner: bareRecord('notes.md', 2, { type: 'file', size: 10, modifiedBy: 'alice' }),
      loser: bareRecord('notes.md', 1, { type: 'file', size: 12, modifiedBy: 'bob' }),
    }),
    describeReplicaEvent({ kind: 'paused', reason: 'massDelete', deletes: 3, liveFiles: 3 }),
  ];
  for (const line of lines) {
    assert.ok(!line.includes('\n') && !line.startsWith('{'), line);
  }
  assert.match(lines[0]!, /no identity of its own.*nothing is deleted/);
  assert.match(lines[1]!, /not the one this replica synced.*nothing is deleted/);
  assert.match(
    lines[2]!,
    /^merged 12 bytes by bob .* into notes\.md \(10 bytes by alice .*\); notes\.conflict-bob-20261207-120000\.md is no longer needed$/,
  );
  assert.equal(lines[3], 'paused: a scan would delete 3 of 3 files');
});

test("a refused record's line names the user of the sending device and escapes the path", () => {
  const event = {
    kind: 'error',
    path: 'x\n\u001b[2Jspace 1: fake',
    problem: { code: 'control', message: 'invalid path', source: 'remote' },
    peer: 'abc123',
  } as const;
  const line = describeReplicaEvent(event, (device) => (device === 'abc123' ? 'mallory' : undefined));
  assert.equal(line, 'x\\u000a\\u001b[2Jspace 1: fake: control (remote, from mallory on device abc123): invalid path');
  assert.match(describeReplicaEvent(event), /from an unknown user on device abc123/);
  assert.equal(
    describeReplicaEvent({ kind: 'error', path: 'a.txt', problem: { code: 'diskFull', message: 'no space', source: 'apply' } }),
    'a.txt: diskFull (apply): no space',
  );
});
