import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { test } from 'node:test';
import { RendezvousError } from '../../../../src/sync/protocol/rendezvous';
import { generateDeviceKeys } from '../../../../src/node/crypto/device-keys';
import { RendezvousClient } from '../../../../src/node/net/rendezvous-client';
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY } from './self-signed';

/** What a one-shot sign-in to `url` fails with. */
async function failure(url: string, handshakeTimeoutMs = 5_000): Promise<RendezvousError> {
  const client = new RendezvousClient({ url, keys: generateDeviceKeys(), mode: 'command', handshakeTimeoutMs });
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
    assert.equal(
      err.message,
      `TLS failure talking to wss://127.0.0.1:${port}: self-signed certificate ` +
        '(its certificate is not trusted here: give the server one from a public authority, or point NODE_EXTRA_CA_CERTS at its CA)',
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
