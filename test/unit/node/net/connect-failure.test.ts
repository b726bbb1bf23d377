import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { RendezvousError } from '../../../../src/sync/protocol/rendezvous';
import { generateDeviceKeys } from '../../../../src/node/crypto/device-keys';
import { ConnectError, closeFailure, connectFailure } from '../../../../src/node/net/connect-failure';
import { RendezvousClient } from '../../../../src/node/net/rendezvous-client';
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY } from './self-signed';

/** What a one-shot sign-in to `url` fails with. */
async function failure(url: string, handshakeTimeoutMs = 5_000, caFile?: string): Promise<RendezvousError> {
  const client = new RendezvousClient({
    url,
    keys: generateDeviceKeys(),
    mode: 'command',
    handshakeTimeoutMs,
    ...(caFile ? { caFile } : {}),
  });
  try {
    await client.connect();
  } catch (err) {
    assert.ok(err instanceof RendezvousError, `not a RendezvousError: ${String(err)}`);
    return err;
  } finally {
    await client.close();
  }
  assert.fail(`connecting to ${url} succeeded`);
}

async function listening<T extends net.Server>(server: T): Promise<{ server: T; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

async function closed(server: net.Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test('connect failure: a closed port is refused', async () => {
  const { server, port } = await listening(net.createServer());
  await closed(server);
  const err = await failure(`ws://127.0.0.1:${port}`);
  assert.equal(err.message, `cannot reach the server at ws://127.0.0.1:${port}: connection refused (is the server running?)`);
});

test('connect failure: a web server that is not a Shared Folders server says so with its HTTP status', async () => {
  const { server, port } = await listening(
    http.createServer((_req, res) => {
      res.writeHead(404).end('no');
    }),
  );
  try {
    const err = await failure(`ws://127.0.0.1:${port}/`);
    assert.equal(err.message, `ws://127.0.0.1:${port}/ is not a Shared Folders server (it answered HTTP 404): check the server address`);
  } finally {
    server.closeAllConnections();
    await closed(server);
  }
});

test('connect failure: wss:// to a server without TLS is a TLS failure that suggests ws://', async () => {
  const { server, port } = await listening(http.createServer((_req, res) => res.writeHead(400).end()));
  try {
    const err = await failure(`wss://127.0.0.1:${port}`);
    assert.match(
      err.message,
      new RegExp(
        `^TLS failure talking to wss://127\\.0\\.0\\.1:${port}: .+ \\(the server does not speak TLS: try ws:// instead of wss://\\)$`,
      ),
    );
  } finally {
    server.closeAllConnections();
    await closed(server);
  }
});

test('connect failure: a TLS server whose certificate nobody vouches for is a TLS failure naming the reason', async () => {
  const { server, port } = await listening(https.createServer({ cert: SELF_SIGNED_CERT, key: SELF_SIGNED_KEY }, (_req, res) => res.end()));
  try {
    const err = await failure(`wss://127.0.0.1:${port}`);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.reason, 'untrustedCertificate');
    assert.equal(
      err.message,
      `the server's certificate at wss://127.0.0.1:${port} is not signed by an authority this device trusts (self-signed certificate): ` +
        'if the server uses a private CA, give its certificate with --ca FILE or the sharedFolders.caFile setting',
    );
  } finally {
    server.closeAllConnections();
    await closed(server);
  }
});

test('connect failure: a server that accepts and never answers times out', async () => {
  const sockets: net.Socket[] = [];
  const { server, port } = await listening(net.createServer((s) => void sockets.push(s)));
  try {
    const started = Date.now();
    const err = await failure(`ws://127.0.0.1:${port}`, 300);
    assert.equal(err.message, `timed out connecting to ws://127.0.0.1:${port}: check the server address and that the server is reachable`);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    for (const s of sockets) s.destroy();
    await closed(server);
  }
});

test('connect failure: a host name that does not exist', async () => {
  const err = await failure('ws://nohost.invalid:7070');
  // Without a resolver at all the lookup fails as "try again" rather than "no such name".
  assert.match(
    err.message,
    /^(no such host: nohost\.invalid \(check the server address\)|cannot look up the host nohost\.invalid right now: check the network connection)$/,
  );
});

test('connect failure: an address that is not a ws:// or wss:// URL is refused before connecting', async () => {
  for (const url of ['localhost:7070', '127.0.0.1:7070', 'http://127.0.0.1:7070', ''])
    assert.equal((await failure(url)).message, `${url} is not a server address: write it as ws://HOST:PORT or wss://HOST`);
});

test('connect failure: with caFile naming the CA, the same certificate is trusted (the handshake gets as far as HTTP)', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-ca-'));
  const caFile = nodePath.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, SELF_SIGNED_CERT);
  const { server, port } = await listening(
    https.createServer({ cert: SELF_SIGNED_CERT, key: SELF_SIGNED_KEY }, (_req, res) => res.writeHead(404).end()),
  );
  try {
    const err = await failure(`wss://127.0.0.1:${port}`, 5_000, caFile);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.reason, 'notAServer');
  } finally {
    server.closeAllConnections();
    await closed(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('connect failure: a caFile that does not exist fails before connecting, with its own reason', async () => {
  const err = await failure('wss://127.0.0.1:1', 5_000, '/nonexistent/ca.pem');
  assert.ok(err instanceof ConnectError);
  assert.equal(err.reason, 'caFile');
  assert.equal(err.message, 'the CA file /nonexistent/ca.pem does not exist: check the path');
});

/** An error as Node's TLS layer makes it for a certificate that does not verify. */
function tlsError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

test('connect failure: each certificate problem has its typed reason and names the problem', () => {
  const url = 'wss://sf.example:443';
  const cases: [Error, string, RegExp][] = [
    [
      tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      'untrustedCertificate',
      /not signed by an authority this device trusts \(unable to verify the first certificate\): .*--ca FILE/,
    ],
    [
      tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      'untrustedCertificate',
      /not signed by an authority this device trusts/,
    ],
    [
      tlsError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'),
      'untrustedCertificate',
      /not signed by an authority/,
    ],
    [
      tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", {
        cert: { subjectaltname: 'DNS:other.example\u001b[31m' },
      }),
      'wrongHostName',
      /^the server's certificate is not for the host name sf\.example \(it is for DNS:other\.example\\u001b\[31m\): /,
    ],
    [
      tlsError('CERT_HAS_EXPIRED', 'certificate has expired'),
      'expiredCertificate',
      /^the server's certificate at wss:\/\/sf\.example:443 has expired: /,
    ],
    [tlsError('CERT_NOT_YET_VALID', 'certificate is not yet valid'), 'expiredCertificate', /is not valid yet: check this device's clock/],
  ];
  for (const [err, reason, message] of cases) {
    const failure = connectFailure(url, err);
    assert.equal(failure.reason, reason, err.message);
    assert.match(failure.message, message);
  }
});

test('connect failure: a server that closes before sign-in is named by its close code', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws) => ws.close(1013, 'try again later'));
  const port = (wss.address() as net.AddressInfo).port;
  try {
    const err = await failure(`ws://127.0.0.1:${port}`);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.reason, 'closed');
    assert.equal(
      err.message,
      `the server at ws://127.0.0.1:${port} is too busy to take the connection (1013 try again later): try again later`,
    );
  } finally {
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  assert.match(closeFailure('ws://x', 1006, '').message, /closed before signing in \(1006\): check that it is a Shared Folders server/);
  assert.match(closeFailure('ws://x', 1001, 'bye').message, /going away \(1001 bye\)/);
  assert.equal(closeFailure('ws://x', 4000, 'no\u0007').reason, 'closed');
});
