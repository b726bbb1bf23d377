import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { deviceIdOf, generateDeviceKeys, type DeviceKeys } from '../../src/node/crypto/device-keys';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';
import { NatsCluster } from '../../src/server/cluster/nats-cluster';
import { RendezvousServer } from '../../src/server/rendezvous-server';
import { DEFAULT_LIMITS } from '../../src/server/server-limits';
import { SqliteStore } from '../../src/server/sqlite-store';
import { NATS_URL } from './pg-database';
import { TcpForwarder } from './tcp-forwarder';

/**
 * Several rendezvous server processes' worth of servers on one store and one real NATS, devices
 * signed in to different ones: whatever server alice and bob land on, they reach each other.
 */

const HEARTBEAT_MS = 250;
const quiet = (): void => undefined;

class TestCluster {
  readonly servers: RendezvousServer[] = [];
  private readonly forwarders: TcpForwarder[] = [];
  private readonly clients: RendezvousClient[] = [];
  private readonly dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-cluster-'));
  private readonly store = SqliteStore.open(this.dir);
  private readonly database = `sf_test_${crypto.randomBytes(6).toString('hex')}`;

  /** A server; `forwarder` puts a TcpForwarder between it and NATS, to cut it off later. */
  async node(forwarder?: TcpForwarder): Promise<RendezvousServer> {
    const nodeId = `n${this.servers.length + 1}`;
    const url = forwarder ? `nats://127.0.0.1:${forwarder.port}` : NATS_URL;
    if (forwarder) this.forwarders.push(forwarder);
    const cluster = await NatsCluster.connect({
      url,
      database: this.database,
      nodeId,
      log: quiet,
      heartbeatMs: HEARTBEAT_MS,
      relayWindowBytes: DEFAULT_LIMITS.queuedBytesPerConnection,
      relayAnswerTimeoutMs: 20_000,
      assemblyBytes: DEFAULT_LIMITS.queuedBytesTotal,
    });
    const server = await RendezvousServer.start({ port: 0, store: this.store, cluster, log: quiet });
    this.servers.push(server);
    return server;
  }

  client(server: RendezvousServer, keys: DeviceKeys, name?: string, mode: 'session' | 'command' = 'session'): RendezvousClient {
    const client = new RendezvousClient({ url: server.url, keys, mode, ...(name ? { join: { name } } : {}) });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    for (const s of this.servers) await s.close();
    for (const f of this.forwarders) await f.cut().catch(() => undefined);
    await this.store.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function withCluster(run: (cluster: TestCluster) => Promise<void>): Promise<void> {
  const cluster = new TestCluster();
  try {
    await run(cluster);
  } finally {
    await cluster.close();
  }
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `waited ${ms} ms for ${what}`);
}

async function makeContacts(a: RendezvousClient, b: RendezvousClient): Promise<void> {
  const token = String((await a.request({ t: 'createInvite' }))['token']);
  await b.request({ t: 'acceptInvite', token, fingerprint: '' });
}

function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
  });
}

test('cluster: relay both ways between devices on different servers, a frame over 1 MiB too', async () => {
  await withCluster(async (cluster) => {
    const [s1, s2] = [await cluster.node(), await cluster.node()];
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const bob = cluster.client(s2, b, 'bob');
    await Promise.all([alice.connect(), bob.connect()]);
    await makeContacts(alice, bob);
    const toBob: Uint8Array[] = [];
    const toAlice: Uint8Array[] = [];
    bob.on('relay', (from, payload) => from === deviceIdOf(a) && toBob.push(payload));
    alice.on('relay', (from, payload) => from === deviceIdOf(b) && toAlice.push(payload));
    assert.ok(alice.relay(deviceIdOf(b), new TextEncoder().encode('hi bob')));
    await until('bob to get the frame', () => toBob.length === 1);
    assert.equal(new TextDecoder().decode(toBob[0]), 'hi bob');
    const big = new Uint8Array(crypto.randomBytes(3 * 1024 * 1024 + 17));
    const small = new TextEncoder().encode('after the big one');
    assert.ok(bob.relay(deviceIdOf(a), big));
    assert.ok(bob.relay(deviceIdOf(a), small));
    await until('alice to get both frames', () => toAlice.length === 2);
    assert.ok(Buffer.from(toAlice[0]!).equals(big), 'the large frame arrives whole');
    assert.equal(new TextDecoder().decode(toAlice[1]), 'after the big one');
    assert.ok(s2.cluster.figures().relaysForwarded >= 2);
  });
});

test('cluster: presence of a device on one server reaches its contact on another: away, online, offline', async () => {
  await withCluster(async (cluster) => {
    const [s1, s2] = [await cluster.node(), await cluster.node()];
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const bob = cluster.client(s2, b, 'bob');
    await Promise.all([alice.connect(), bob.connect()]);
    await makeContacts(alice, bob);
    const seen: string[] = [];
    bob.on('presence', (_user, presence, devices) => seen.push(`${presence}:${devices.join(',')}`));
    await alice.request({ t: 'presence', status: 'away' });
    await until('bob to see alice away', () => seen.includes(`away:${deviceIdOf(a)}`));
    await alice.request({ t: 'presence', status: 'online' });
    await until('bob to see alice online again', () => seen[seen.length - 1] === `online:${deviceIdOf(a)}`);
    // The account state bob gets from the other server lists alice's device online.
    const later = cluster.client(s2, b, undefined, 'command');
    assert.ok((await later.connect()).online.includes(deviceIdOf(a)));
    await alice.close();
    await until('bob to see alice offline', () => seen[seen.length - 1] === 'offline:');
  });
});

test('cluster: a device signing in on another server replaces its session there', async () => {
  await withCluster(async (cluster) => {
    const [s1, s2, s3] = [await cluster.node(), await cluster.node(), await cluster.node()];
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const first = cluster.client(s2, b, 'bob');
    await Promise.all([alice.connect(), first.connect()]);
    await makeContacts(alice, first);
    let firstClosed = '';
    first.on('disconnected', (reason) => (firstClosed = reason));
    const second = cluster.client(s3, b);
    await second.connect();
    await until('the first session to be closed', () => firstClosed !== '');
    assert.match(firstClosed, /^4003/);
    await until('s2 to have no session left', () => s2.metrics.authenticated === 0);
    const got: string[] = [];
    second.on('relay', (_from, payload) => got.push(new TextDecoder().decode(payload)));
    alice.relay(deviceIdOf(b), new TextEncoder().encode('to the new session'));
    await until('the new session to get the frame', () => got.length === 1);
    assert.equal(got[0], 'to the new session');
    assert.ok(second.connected);
  });
});

test('cluster: an item deposited on one server is delivered at once to its device signed in on another', async () => {
  await withCluster(async (cluster) => {
    const [s1, s2] = [await cluster.node(), await cluster.node()];
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const bob = cluster.client(s2, b, 'bob');
    await Promise.all([alice.connect(), bob.connect()]);
    await makeContacts(alice, bob);
    const got: { item: string; sender: string; payload: Uint8Array }[] = [];
    bob.on('delivery', (item, sender, payload) => got.push({ item, sender, payload }));
    const item = crypto.randomBytes(16).toString('hex');
    assert.ok(alice.deposit(item, [deviceIdOf(b)], new TextEncoder().encode('while you are there')));
    await until('bob to get the item', () => got.length === 1);
    assert.deepEqual(
      { ...got[0], payload: new TextDecoder().decode(got[0]!.payload) },
      {
        item,
        sender: deviceIdOf(a),
        payload: 'while you are there',
      },
    );
    await bob.request({ t: 'ack', items: [item] });
    assert.deepEqual(await s1.mailboxTotals(), { items: 0, bytes: 0 });
  });
});

test('cluster: a contact removed on one server can no longer relay through another', async () => {
  await withCluster(async (cluster) => {
    const [s1, s2] = [await cluster.node(), await cluster.node()];
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const bob = cluster.client(s2, b, 'bob');
    await Promise.all([alice.connect(), bob.connect()]);
    await makeContacts(alice, bob);
    const got: string[] = [];
    bob.on('relay', (_from, payload) => got.push(new TextDecoder().decode(payload)));
    alice.relay(deviceIdOf(b), new TextEncoder().encode('still contacts'));
    await until('bob to get the first frame', () => got.length === 1);
    const aliceState: string[] = [];
    alice.on('state', (state) => aliceState.push(state.contacts.map((c) => c.id).join(',')));
    await bob.request({ t: 'removeContact', user: alice.state!.user.id });
    await until('alice, on the other server, to get her new state', () => aliceState.includes(''));
    let aliceClosed = '';
    alice.on('disconnected', (reason) => (aliceClosed = reason));
    alice.relay(deviceIdOf(b), new TextEncoder().encode('no longer'));
    await until('alice to be closed for relaying to a stranger', () => aliceClosed !== '');
    assert.match(aliceClosed, /^1008/);
    assert.deepEqual(got, ['still contacts']);
  });
});

test('cluster: a server cut off from the bus is declared dead: its users turn offline elsewhere, its /healthz says 503', async () => {
  await withCluster(async (cluster) => {
    const forwarder = await TcpForwarder.start('127.0.0.1', Number(new URL(NATS_URL).port || 4222));
    const [s1, s3] = [await cluster.node(), await cluster.node(forwarder)];
    const [a, c] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const carol = cluster.client(s3, c, 'carol');
    await Promise.all([alice.connect(), carol.connect()]);
    await makeContacts(carol, alice);
    const seen: string[] = [];
    alice.on('presence', (_user, presence) => seen.push(presence));
    assert.equal((await healthz(s3.port)).status, 200);
    assert.equal(s1.cluster.figures().nodesAlive, 2);
    await forwarder.cut();
    await until('alice to see carol offline', () => seen[seen.length - 1] === 'offline', 10 * HEARTBEAT_MS + 5000);
    assert.equal(s1.cluster.figures().nodesAlive, 1);
    const health = await healthz(s3.port);
    assert.equal(health.status, 503);
    assert.equal(health.body['bus'], 'down');
    assert.equal(health.body['database'], 'ok');
    assert.equal(health.body['node'], 'n2');
    const healthy = await healthz(s1.port);
    assert.equal(healthy.status, 200);
    assert.deepEqual({ ...healthy.body, version: 0 }, { status: 'ok', version: 0, node: 'n1', database: 'ok', bus: 'ok' });
  });
});
