import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { CliError, UsageError } from '../../../src/cli/cli-errors';
import {
  existingFolder,
  existingHome,
  keepChoice,
  kibPerSecond,
  newHome,
  portNumber,
  role,
  serverAddress,
} from '../../../src/cli/cli-values';

test('ports are whole numbers up to 65535', () => {
  assert.equal(portNumber('7070'), 7070);
  for (const bad of ['80a', '-1', '65536', '', '1.5'])
    assert.throws(
      () => portNumber(bad),
      (err: Error) => err instanceof UsageError && /is not a port number: give a whole number/.test(err.message),
    );
});

test('limits are positive KiB per second, turned into bytes', () => {
  assert.equal(kibPerSecond('512', '--limit-up'), 512 * 1024);
  assert.equal(kibPerSecond(undefined, '--limit-up'), undefined);
  assert.throws(
    () => kibPerSecond('0', '--limit-up'),
    /^UsageError: --limit-up 0 is not a number of KiB per second: give a positive number, such as 512$/,
  );
  assert.throws(() => kibPerSecond('fast', '--limit-down'), /--limit-down fast is not a number of KiB per second/);
});

test('roles and choices are one of their words', () => {
  assert.equal(role('reader'), 'reader');
  assert.throws(() => role('owner'), /--role owner is not a role: use editor or reader/);
  assert.equal(keepChoice('theirs'), 'theirs');
  assert.throws(() => keepChoice('yours'), /--keep yours is not a choice: use mine, theirs or both/);
});

test('a server address needs the ws or wss scheme', () => {
  assert.equal(serverAddress('ws://127.0.0.1:7070'), 'ws://127.0.0.1:7070');
  assert.equal(serverAddress('wss://example.org'), 'wss://example.org');
  for (const bad of ['example.org:7070', 'http://example.org', '127.0.0.1:7070', 'ws://'])
    assert.throws(
      () => serverAddress(bad),
      (err: Error) => err.message === `--server ${bad} is not a server address: write it as ws://HOST:PORT or wss://HOST`,
    );
});

test('homes and folders: missing, a file, or without a device are refused in one line', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-cli-values-'));
  try {
    const file = nodePath.join(dir, 'file');
    fs.writeFileSync(file, 'x');
    assert.throws(
      () => existingHome(nodePath.join(dir, 'missing')),
      (err: Error) => err instanceof CliError && / does not exist: /.test(err.message),
    );
    assert.throws(() => existingHome(file), / is a file, not a folder/);
    assert.throws(() => existingHome(dir), / holds no device: make one with "shared-folders init/);
    assert.equal(newHome(nodePath.join(dir, 'new')).dir, nodePath.join(dir, 'new'));
    assert.throws(() => newHome(file), / is a file, not a folder/);
    assert.equal(existingFolder(dir, '--path'), dir);
    assert.throws(() => existingFolder(nodePath.join(dir, 'missing'), '--path'), /does not exist: create the folder first/);
    assert.throws(() => existingFolder(file, '--path'), /is a file: give a folder/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
