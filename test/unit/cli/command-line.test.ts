import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/cli/cli-errors';
import { readCommandLine, type CommandLine } from '../../../src/cli/command-line';
import type { CommandSpec } from '../../../src/cli/command-spec';
import { COMMANDS } from '../../../src/cli/command-table';

function read(...argv: string[]): CommandLine {
  return readCommandLine(argv, COMMANDS);
}

function refused(argv: readonly string[]): string {
  try {
    readCommandLine(argv, COMMANDS);
  } catch (err) {
    assert.ok(err instanceof UsageError, `a UsageError, not ${String(err)}`);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

function ran(line: CommandLine): Extract<CommandLine, { kind: 'run' }> {
  assert.equal(line.kind, 'run');
  return line as Extract<CommandLine, { kind: 'run' }>;
}

test('--help, -h and help print the global usage with status 0; no arguments print it with status 2', () => {
  for (const argv of [['--help'], ['-h'], ['help'], ['help', '--help']]) {
    const line = read(...argv);
    assert.equal(line.kind, 'usage');
    assert.equal(line.kind === 'usage' && line.status, 0);
    assert.match(line.kind === 'usage' ? line.text : '', /^usage: shared-folders COMMAND/);
    for (const c of COMMANDS) assert.match(line.kind === 'usage' ? line.text : '', new RegExp(`\\n  ${c.name} `), `lists ${c.name}`);
  }
  const none = read();
  assert.deepEqual(none.kind === 'usage' && none.status, 2);
});

test("every command's --help, -h and help COMMAND print its usage with status 0, even beside a mistake", () => {
  for (const c of COMMANDS) {
    for (const argv of [
      [c.name, '--help'],
      [c.name, '-h'],
      ['help', c.name],
      [c.name, '--bogus', 'x', '--help'],
    ]) {
      const line = read(...argv);
      assert.equal(line.kind, 'usage', argv.join(' '));
      if (line.kind !== 'usage') continue;
      assert.equal(line.status, 0);
      assert.match(line.text, new RegExp(`^usage: shared-folders ${c.name}`));
      for (const name of Object.keys(c.options)) assert.match(line.text, new RegExp(`--${name}\\b`), `${c.name} --help shows --${name}`);
    }
  }
});

test('an unknown option is refused with the command and its valid options, with a guess when one is close', () => {
  const serverOptions =
    '--host, --port, --data, --database, --bus, --node-id, --rate-limit, --mailbox-quota, --mailbox-cap, --accounts-per-address, --accounts-per-hour, ' +
    '--codes-per-hour, --live-codes, --heartbeat, --connections-per-address, --tls-cert, --tls-key, --metrics-host, --trust-proxy';
  assert.equal(refused(['server', '--frobnicate', 'x']), `server does not take --frobnicate; its options are ${serverOptions}`);
  assert.equal(
    refused(['server', '--prot', '8080']),
    `server does not take --prot (did you mean --port?); its options are ${serverOptions}`,
  );
  assert.match(refused(['status', '--home', 'h', '-x']), /^status does not take -x; its options are --home, --json, --ca$/);
});

test('a flag never swallows the next word: it stays a positional, and is refused where none is taken', () => {
  const chat = ran(read('chat', '--home', 'h', '--to', 'bob', '--json', 'hello', 'there'));
  assert.equal(chat.args.options['json'], true);
  assert.deepEqual(chat.args.positionals, ['hello', 'there']);
  const join = ran(read('join', '--merge', '--home', 'h', '--space', 's', '--path', 'p'));
  assert.equal(join.args.options['merge'], true);
  assert.equal(join.args.options['home'], 'h');
  assert.equal(
    refused(['status', '--json', 'h', '--home', 'x']),
    'status takes no arguments, but was also given "h" (see "shared-folders status --help")',
  );
  assert.equal(refused(['status', '--home', 'h', '--json=yes']), '--json takes no value: write just --json, without "=yes"');
});

test('a string option needs a value; one that looks like an option is not taken as its value', () => {
  assert.equal(refused(['status', '--home']), '--home needs a value: --home H');
  assert.equal(
    refused(['status', '--home', '--json']),
    '--home needs a value, and "--json" looks like an option: if it is the value, write --home=--json',
  );
  assert.equal(refused(['status', '--home=']), '--home needs a value: --home H');
  assert.equal(ran(read('status', '--home=--odd')).args.options['home'], '--odd');
});

test('required options and arguments are named when missing; defaults fill the others', () => {
  assert.equal(refused(['join', '--home', 'h', '--path', 'p']), 'join needs --space ID (see "shared-folders join --help")');
  assert.match(refused(['accept', '--home', 'h']), /^accept needs CODE: /);
  assert.match(refused(['accept', '--home', 'h', 'a', 'b']), /^accept takes only CODE, but was also given "b"/);
  const server = ran(read('server'));
  assert.deepEqual(server.args.options, {
    host: '127.0.0.1',
    port: '7070',
    data: 'shared-folders-data',
    database: undefined,
    bus: undefined,
    'node-id': undefined,
    'rate-limit': undefined,
    'mailbox-quota': undefined,
    'mailbox-cap': undefined,
    'accounts-per-address': undefined,
    'accounts-per-hour': undefined,
    'codes-per-hour': undefined,
    'live-codes': undefined,
    heartbeat: undefined,
    'connections-per-address': undefined,
    'tls-cert': undefined,
    'tls-key': undefined,
    'metrics-host': undefined,
    'trust-proxy': undefined,
  });
  assert.equal(ran(read('share', '--home', 'h', '--path', 'p', '--with', 'bob')).args.options['role'], 'editor');
});

test('an unknown command is refused with the closest command, or the list of commands', () => {
  assert.equal(refused(['stauts']), 'unknown command "stauts": did you mean "status"? ("shared-folders --help" lists the commands)');
  assert.equal(refused(['conflict']), 'unknown command "conflict": did you mean "conflicts"? ("shared-folders --help" lists the commands)');
  assert.match(refused(['frobnicate']), /^unknown command "frobnicate": the commands are server, init, link, /);
  assert.match(refused(['help', 'frobnicate']), /^unknown command "frobnicate"/);
  assert.match(refused(['--home', 'h', 'status']), /^the command comes first, before --home/);
});

test('words after -- are positionals, even when they look like options', () => {
  const chat = ran(read('chat', '--home', 'h', '--to', 'bob', '--', '--not-an-option'));
  assert.deepEqual(chat.args.positionals, ['--not-an-option']);
});

test('the table is consistent: unique names, lower-case one-line summaries, values named for string options', () => {
  const names = COMMANDS.map((c: CommandSpec) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const c of COMMANDS) {
    assert.match(c.summary, /^[a-z][^\n]*[^.]$/, c.name);
    for (const [name, option] of Object.entries(c.options)) {
      assert.ok(option.type === 'boolean' || option.value, `${c.name} --${name} names its value`);
      assert.ok(!(option.type === 'boolean' && option.value), `${c.name} --${name} is a flag without a value`);
      assert.notEqual(name, 'help', 'every command has --help already');
    }
  }
});
