import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { describeRemoteChanges } from '../../../../src/node/agent/remote-changes';
import { printable } from '../../../../src/sync/util/printable';

test('changes that arrived read as one line naming the author and the files', () => {
  assert.equal(describeRemoteChanges('alice', ['notes.md']), 'changes from alice to 1 file: "notes.md"');
  const paths = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  assert.equal(describeRemoteChanges('bob', paths), 'changes from bob to 7 files: "a", "b", "c", "d", "e" and 2 more');
});

test('a name or path with a line break or an escape code cannot forge another log line', () => {
  const line = describeRemoteChanges('mallory\n2026 space x: deleted', ['x\n\u001b[2Jy']);
  assert.equal(line.includes('\n'), false);
  assert.equal(line.includes('\u001b'), false);
  assert.match(line, /mallory\\u000a2026/);
});

test('printable keeps ordinary text and writes every control character as an escape', () => {
  assert.equal(printable('plain text, ünïcode ✓'), 'plain text, ünïcode ✓');
  assert.equal(printable('a\nb\r\u001b[31m\u0000\u007f\u009b'), 'a\\u000ab\\u000d\\u001b[31m\\u0000\\u007f\\u009b');
});
