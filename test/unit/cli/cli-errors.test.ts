import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, presentError, UsageError } from '../../../src/cli/cli-errors';
import { AccountError } from '../../../src/node/agent/account';
import { StateLockedError } from '../../../src/node/disk/state/state-journal';
import { EngineCallError } from '../../../src/node/engine/engine-client';

test('usage mistakes exit 2, other known errors 1, each as its own message on one line', () => {
  assert.deepEqual(presentError(new UsageError('bad')), { line: 'bad', status: 2 });
  assert.deepEqual(presentError(new CliError('no')), { line: 'no', status: 1 });
  assert.deepEqual(presentError(new AccountError('bob is not one of your contacts')), {
    line: 'bob is not one of your contacts',
    status: 1,
  });
  assert.deepEqual(presentError(new EngineCallError('usage', 'x has no conflict')), { line: 'x has no conflict', status: 1 });
  assert.equal(presentError(new CliError('two\nlines')).line, 'two; lines');
});

test('a busy, forbidden or foreign listening address says which and what to do', () => {
  const listen = (code: string): unknown =>
    Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen', address: '127.0.0.1', port: 7070 });
  assert.equal(
    presentError(listen('EADDRINUSE')).line,
    'port 7070 on 127.0.0.1 is already in use by another program: choose another with --port',
  );
  assert.equal(
    presentError(listen('EACCES')).line,
    'port 7070 on 127.0.0.1 needs privileges this user does not have: choose a port above 1023 with --port',
  );
  assert.equal(presentError(listen('EADDRNOTAVAIL')).line, '127.0.0.1 is not an address of this machine: choose another with --host');
});

test('a locked state folder names the process holding it and what to do', () => {
  const presented = presentError(new StateLockedError('/h/state/s1/state', 4242));
  assert.equal(presented.status, 1);
  assert.match(
    presented.line,
    /^\/h\/state\/s1\/state is in use by process 4242, a "shared-folders run" daemon or VS Code on the same home: stop/,
  );
});

test('file system errors name the path and the fix', () => {
  const fsError = (code: string): unknown => Object.assign(new Error(code), { code, syscall: 'open', path: '/x/y' });
  assert.equal(presentError(fsError('EACCES')).line, '/x/y: permission denied: run as a user who may use it, or change its permissions');
  assert.equal(presentError(fsError('ENOENT')).line, '/x/y does not exist: check the path');
  assert.equal(presentError(fsError('ENOSPC')).line, '/x/y: the disk is full: free some space and try again');
});

test('an unexpected error is one line with its message and the debug hint; the stack is kept for the debug variable only', () => {
  const presented = presentError(new TypeError('x is not a function'));
  assert.equal(presented.line, 'unexpected error: x is not a function (run again with SHARED_FOLDERS_DEBUG=1 to see the details)');
  assert.equal(presented.status, 1);
  assert.match(presented.details ?? '', /TypeError: x is not a function\n\s+at /);
  assert.match(presentError('a string').line, /^unexpected error: a string /);
});
