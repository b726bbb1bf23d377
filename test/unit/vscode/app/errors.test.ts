import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerFailureReason } from '../../../../src/node/engine/engine-protocol';
import { Retryable, reportFor, serverAddressProblem, unreachableReason } from '../../../../src/vscode/app/errors';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';

const REASONS: readonly ServerFailureReason[] = [
  'notAServer',
  'timedOut',
  'refused',
  'noSuchHost',
  'lookupFailed',
  'unreachable',
  'reset',
  'notTls',
  'untrustedCertificate',
  'wrongHostName',
  'expiredCertificate',
  'tls',
  'caFile',
  'closed',
  'other',
];

test('a server that could not be reached: the message says why, with Open Settings and Retry', () => {
  const refused = reportFor(
    { code: 'server', message: 'cannot reach the server at ws://127.0.0.1:7070: connection refused', reason: 'refused' },
    l10n,
  );
  assert.match(refused?.message ?? '', /^Could not reach the Shared Folders server: connection refused \(no server is listening/);
  assert.match(refused?.message ?? '', /ws:\/\/127\.0\.0\.1:7070/);
  assert.equal(refused?.serverSetting, 'sharedFolders.server');
  const untrusted = reportFor({ code: 'server', message: 'x', reason: 'untrustedCertificate' }, l10n);
  assert.match(untrusted?.message ?? '', /certificate is not trusted/);
  assert.equal(untrusted?.serverSetting, 'sharedFolders.caFile');
  assert.match(reportFor({ code: 'server', message: 'x', reason: 'noSuchHost' }, l10n)?.message ?? '', /no such host/);
  assert.match(reportFor({ code: 'server', message: 'x', reason: 'timedOut' }, l10n)?.message ?? '', /timed out/);
  assert.match(reportFor({ code: 'server', message: 'x', reason: 'tls' }, l10n)?.message ?? '', /TLS problem/);
  // Each reason has words of its own.
  const texts = REASONS.map((r) => unreachableReason(r, l10n));
  assert.equal(new Set(texts).size, REASONS.length);
  // Other server errors (a refused invite code) are not about reaching it: no settings, no retry.
  const other = reportFor({ code: 'server', message: 'the invite code is unknown' }, l10n);
  assert.equal(other?.message, 'The server could not do this: the invite code is unknown');
  assert.equal(other?.serverSetting, undefined);
});

test('a retried failure is reported as its cause, and says which attempt it was', () => {
  const cause = { code: 'server' as const, message: 'refused', reason: 'refused' as const };
  const first = reportFor(new Retryable(cause, async () => undefined), l10n);
  assert.equal(first?.message, reportFor(cause, l10n)?.message);
  const second = reportFor(new Retryable(cause, async () => undefined, 2), l10n);
  assert.equal(second?.message, `${reportFor(cause, l10n)?.message ?? ''} (attempt 2)`);
  assert.equal(second?.serverSetting, 'sharedFolders.server');
});

test('server addresses: ws:// or wss:// with a host', () => {
  assert.equal(serverAddressProblem('ws://127.0.0.1:7070', l10n), undefined);
  assert.equal(serverAddressProblem(' wss://sf.example.org ', l10n), undefined);
  assert.equal(serverAddressProblem('http://sf.example.org', l10n), 'The address starts with ws:// or wss://');
  assert.equal(serverAddressProblem('sf.example.org:7070', l10n), 'The address starts with ws:// or wss://');
  assert.equal(serverAddressProblem('not an address', l10n), 'Write the address as ws://HOST:PORT or wss://HOST');
  assert.equal(serverAddressProblem('', l10n), 'Write the address as ws://HOST:PORT or wss://HOST');
});
