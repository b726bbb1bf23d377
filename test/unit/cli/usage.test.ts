import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandSpec } from '../../../src/cli/command-spec';
import { commandUsage, globalUsage, synopsis } from '../../../src/cli/usage';

const sample: CommandSpec = {
  name: 'demo',
  summary: 'do a demo',
  options: {
    home: { type: 'string', value: 'H', description: 'the home', required: true },
    port: { type: 'string', value: 'PORT', description: 'a port', default: '7070' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  positionals: [{ name: 'WORDS', description: 'some words', variadic: true }],
  notes: ['A note.'],
  run: async () => undefined,
};

test('the synopsis shows required options bare and the others in brackets', () => {
  assert.equal(synopsis(sample), '--home H [--port PORT] [--json] [WORDS...]');
});

test("a command's usage has its line, summary, every option with its default, its arguments, help and notes", () => {
  assert.equal(
    commandUsage(sample),
    [
      'usage: shared-folders demo --home H [--port PORT] [--json] [WORDS...]',
      '',
      'Do a demo.',
      '',
      'options:',
      '  --home H     the home (required)',
      '  --port PORT  a port (default 7070)',
      '  --json       print JSON',
      '  WORDS...     some words',
      '  -h, --help   show this help',
      '',
      'A note.',
    ].join('\n'),
  );
});

test('the global usage lists each command with its summary', () => {
  const text = globalUsage([sample]);
  assert.match(text, /^usage: shared-folders COMMAND \[OPTIONS\]/);
  assert.match(text, /\n {2}demo {2}do a demo\n/);
  assert.match(text, /"shared-folders COMMAND --help"/);
});
