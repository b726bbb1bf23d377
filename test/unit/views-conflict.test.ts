import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyIsMine, engineChoice } from '../../src/views/conflict-sides';

const conflict = (copy: string) => ({ space: 's1', path: 'docs/notes.md', copy });

test('the conflict copy is mine when it is named after me', () => {
  assert.equal(copyIsMine(conflict('docs/notes.conflict-bob-20261201-221740.md'), 'bob'), true);
  assert.equal(copyIsMine(conflict('docs/notes.conflict-bob-20261201-221740.md'), 'alice'), false);
  assert.equal(copyIsMine(conflict('docs/notes.conflict-bob-20261201-221740.md'), undefined), false);
  // Names are written into file names safely; the comparison uses the same form.
  assert.equal(copyIsMine(conflict('notes.conflict-Bob_Smith-20261201-221740.md'), 'Bob Smith'), true);
  assert.equal(copyIsMine(conflict('notes.md'), 'bob'), false);
});

test('Keep Mine keeps the copy when the copy is mine, and the file otherwise', () => {
  assert.equal(engineChoice('mine', false), 'mine');
  assert.equal(engineChoice('theirs', false), 'theirs');
  assert.equal(engineChoice('mine', true), 'theirs');
  assert.equal(engineChoice('theirs', true), 'mine');
  assert.equal(engineChoice('both', true), 'both');
  assert.equal(engineChoice('both', false), 'both');
});
