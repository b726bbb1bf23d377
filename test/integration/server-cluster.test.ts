import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { deviceIdOf, generateDeviceKeys, signWith, type DeviceKeys } from '../../src/node/crypto/device-keys';
import { spaceDocSigningBytes, type SpaceDoc } from '../../src/sync/protocol/rendezvous';
import { toHex } from '../../src/sync/util/bytes';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';
import { RendezvousServer, type ServerOptions } from '../../src/server/rendezvous-server';
import { createTestDatabase, NATS_URL, type TestDatabase } from './pg-database';
import { TcpForwarder } from './tcp-forwarder';

/**
 * Several rendezvous servers on one PostgreSQL database and one real NATS (in this process, and
 * a CLI process where one must die), devices signed in to different ones: whatever server alice
 * and bob land on, they reach each other.
 */

const HEARTBEAT_MS = 250;
const CLI = nodePath.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const quiet = (): void => undefined;

class TestCluster {
  readonly servers: RendezvousServer[] = [];
  private readonly forwarders: TcpForwarder[] = [];
  private readonly clients: RendezvousClient[] = [];
  private readonly children: ChildProcess[] = [];

  private constructor(readonly database: TestDatabase) {}

  static async create(): Promise<TestCluster> {
    return new TestCluster(await createTestDatabase());
  }

  /** A server; `forwarder` puts a TcpForwarder between it and NATS, to cut it off later. */
  async node(forwarder?: TcpForwarder): Promise<RendezvousServer> {
    const nodeId = `n${this.servers.length + 1}`;
    const bus = forwarder ? `nats://127.0.0.1:${forwarder.port}` : NATS_URL;
    if (forwarder) this.forwarders.push(forwarder);
    const server = await RendezvousServer.start({
      port: 0,
      database: this.database.url,
      bus,
      nodeId,
      clusterHeartbeatMs: HEARTBEAT_MS,
      log: quiet,
      ...this.options,
    });
    this.servers.push(server);
    return server;
  }

  options: Partial<ServerOptions> = {};

  /** A real server process (the CLI) in the cluster; resolves with its port once it listens. */
  async process(nodeId: string): Promise<{ child: ChildProcess; port: number }> {
    const args = [
      CLI,
      'server',
      '--database',
      this.database.url,
      '--bus',
      NATS_URL,
      '--port',
      '0',
      '--node-id',
      nodeId,
      '--heartbeat',
      '1',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server process did not listen within 20 s: ${err}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const listening = out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((e) => e['event'] === 'listening');
        if (!listening) return;
        clearTimeout(timer);
        resolve(Number(listening['port']));
      });
      child.once('exit', (code) => reject(new Error(`the server process exited (${code}): ${err}`)));
    });
    return { child, port };
  }

  client(server: RendezvousServer | string, keys: DeviceKeys, name?: string, mode: 'session' | 'command' = 'session'): RendezvousClient {
    const url = typeof server === 'string' ? server : server.url;
    const client = new RendezvousClient({ url, keys, mode, ...(name ? { join: { name } } : {}) });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const s of this.servers) await s.close();
    for (const f of this.forwarders) await f.cut().catch(() => undefined);
    await this.database.drop();
  }
}

async function withCluster(run: (cluster: TestCluster) => Promise<void>): Promise<void> {
  const cluster = await TestCluster.create();
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

/** Two servers of the cluster, alice signed in on the first and bob on the second, contacts. */
async function aliceAndBobOnTwoNodes(cluster: TestCluster): Promise<{
  s1: RendezvousServer;
  s2: RendezvousServer;
  a: DeviceKeys;
  b: DeviceKeys;
  alice: RendezvousClient;
  bob: RendezvousClient;
}> {
  const [s1, s2] = [await cluster.node(), await cluster.node()];
  const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
  const alice = cluster.client(s1, a, 'alice');
  const bob = cluster.client(s2, b, 'bob');
  await Promise.all([alice.connect(), bob.connect()]);
  await makeContacts(alice, bob);
  return { s1, s2, a, b, alice, bob };
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
    const { s1, s2, a, b, alice, bob } = await aliceAndBobOnTwoNodes(cluster);
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
    // Many small frames, and larger ones among them, arrive in the order they were sent.
    toBob.length = 0;
    const sent: number[] = [];
    const messagesBefore = s1.cluster.figures().messagesOut;
    for (let i = 0; i < 600; i++) {
      const frame = new Uint8Array(i % 100 === 50 ? 200_000 : 64);
      new DataView(frame.buffer).setUint32(0, i);
      assert.ok(alice.relay(deviceIdOf(b), frame));
      sent.push(i);
    }
    await until('bob to get them all', () => toBob.length === sent.length);
    assert.deepEqual(
      toBob.map((f) => new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0)),
      sent,
    );
    const messages = s1.cluster.figures().messagesOut - messagesBefore;
    assert.ok(messages < sent.length / 2, `${sent.length} frames went in ${messages} bus messages: small ones together`);
    assert.ok(s2.cluster.figures().relaysForwarded >= 2);
  });
});

test('cluster: presence of a device on one server reaches its contact on another: away, online, offline', async () => {
  await withCluster(async (cluster) => {
    const { s2, a, b, alice, bob } = await aliceAndBobOnTwoNodes(cluster);
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
    const { s1, a, b, alice, bob } = await aliceAndBobOnTwoNodes(cluster);
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
    const { b, alice, bob } = await aliceAndBobOnTwoNodes(cluster);
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

test("cluster: a space shared across servers: the invitee gets its state, members get each other's vectors", async () => {
  await withCluster(async (cluster) => {
    const { a, alice, bob } = await aliceAndBobOnTwoNodes(cluster);
    const unsigned = {
      id: crypto.randomBytes(16).toString('hex'),
      kind: 'pair' as const,
      version: 1,
      members: [
        { user: alice.state!.user.id, role: 'owner' as const },
        { user: bob.state!.user.id, role: 'editor' as const },
      ],
      author: deviceIdOf(a),
    };
    const doc: SpaceDoc = { ...unsigned, signature: toHex(signWith(a, spaceDocSigningBytes(unsigned))) };
    await alice.request({ t: 'putSpace', doc });
    await until('bob, on the other server, to see the invitation', () => bob.state!.spaces.some((sp) => sp.doc.id === doc.id));
    await bob.request({ t: 'respondSpace', space: doc.id, accept: true });
    const vectors: string[] = [];
    bob.on('vector', (space, device, hash) => vectors.push(`${space}:${device}:${hash}`));
    const hash = crypto.randomBytes(32).toString('hex');
    await alice.request({ t: 'vector', space: doc.id, hash });
    await until("bob to get alice's vector", () => vectors.length === 1);
    assert.equal(vectors[0], `${doc.id}:${deviceIdOf(a)}:${hash}`);
  });
});

test('cluster: a server cut off from the bus is declared dead: its users turn offline elsewhere, its /healthz says 503, until the bus is back', async () => {
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
    // The bus comes back: the two exchange snapshots, and carol is online again for alice.
    await forwarder.restore();
    await until('alice to see carol online again', () => seen[seen.length - 1] === 'online', 15_000);
    await until('s3 healthy again', () => s3.cluster.figures().busConnected === 1);
    assert.equal((await healthz(s3.port)).status, 200);
    const got: string[] = [];
    carol.on('relay', (_from, payload) => got.push(new TextDecoder().decode(payload)));
    alice.relay(deviceIdOf(c), new TextEncoder().encode('you are back'));
    await until('carol to get the frame', () => got.length === 1);
  });
});

test('cluster: a server process killed without goodbye: its users turn offline on the others, and sign in there', async () => {
  await withCluster(async (cluster) => {
    const s1 = await cluster.node();
    const doomed = await cluster.process('doomed');
    const [a, c] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    const carol = cluster.client(`ws://127.0.0.1:${doomed.port}`, c, 'carol');
    await Promise.all([alice.connect(), carol.connect()]);
    await makeContacts(carol, alice);
    const seen: string[] = [];
    alice.on('presence', (_user, presence) => seen.push(presence));
    await until('s1 to know carol online', () => alice.state!.contacts.length === 1 && s1.cluster.figures().nodesAlive === 2);
    const beforeKill = (await cluster.client(s1, a, undefined, 'command').connect()).online;
    assert.ok(beforeKill.includes(deviceIdOf(c)), 'carol is online, seen from s1');
    doomed.child.kill('SIGKILL');
    // With --heartbeat 1 the process beats every 250 ms and is declared dead after three silent beats.
    await until('alice to see carol offline', () => seen[seen.length - 1] === 'offline', 15_000);
    assert.equal(s1.cluster.figures().nodesAlive, 1);
    const again = cluster.client(s1, c);
    await again.connect();
    await until('alice to see carol online again', () => seen[seen.length - 1] === 'online');
  });
});

test('cluster: a device on another server that does not read: the sender is slowed, then told busy', async () => {
  await withCluster(async (cluster) => {
    cluster.options = { limits: { relayWaitMs: 500 } };
    const [s1, s2] = [await cluster.node(), await cluster.node()];
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = cluster.client(s1, a, 'alice');
    // Bob reads 1 KiB a second: his client leaves the rest in its socket.
    const bob = new RendezvousClient({ url: s2.url, keys: b, join: { name: 'bob' }, limitDown: 1024 });
    await Promise.all([alice.connect(), bob.connect()]);
    await makeContacts(alice, bob);
    const problems: string[] = [];
    alice.on('problem', (code, message) => problems.push(`${code}: ${message}`));
    const payload = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 40 && problems.length === 0; i++) {
      assert.ok(alice.relay(deviceIdOf(b), payload), 'alice stays connected');
      assert.ok(await alice.drained(4 * 1024 * 1024), 'alice stays connected');
    }
    await until('alice told her frames are refused', () => problems.length > 0, 30_000);
    assert.match(problems[0]!, /^busy: device [0-9a-f]+ is not reading what is sent to it; a relay frame of \d+ bytes was dropped$/);
    assert.ok(alice.connected);
    await bob.close();
  });
});

test('cluster: /metrics of a server tells its node, its sessions and the others, and its bus figures', async () => {
  await withCluster(async (cluster) => {
    cluster.options = { metrics: { host: '127.0.0.1', port: 0 } };
    const { s1, b, alice, bob } = await aliceAndBobOnTwoNodes(cluster);
    const got: Uint8Array[] = [];
    bob.on('relay', (_from, payload) => got.push(payload));
    alice.relay(deviceIdOf(b), new Uint8Array(100));
    await until('bob to get the frame', () => got.length === 1);
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: s1.metricsPort, path: '/metrics', timeout: 10_000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.match(text, /^sharedfolders_node_info\{node="n1"\} 1$/m);
    assert.equal(value('sharedfolders_local_sessions'), 1);
    assert.equal(value('sharedfolders_remote_sessions'), 1);
    assert.equal(value('sharedfolders_cluster_nodes_alive'), 2);
    assert.equal(value('sharedfolders_bus_connected'), 1);
    assert.equal(value('sharedfolders_relays_forwarded_total'), 1);
    for (const name of ['messages_in', 'messages_out', 'bytes_in', 'bytes_out'])
      assert.ok(value(`sharedfolders_bus_${name}_total`) > 0, name);
  });
});

test('cluster: the CLI names the database or bus it cannot reach, in one line, and exits 1', async () => {
  const database = await createTestDatabase();
  const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'server', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  try {
    const noDatabase = await run(['--database', 'postgres://postgres:secret@127.0.0.1:1/nowhere', '--bus', NATS_URL]);
    assert.equal(noDatabase.code, 1);
    assert.match(
      noDatabase.stderr,
      /^shared-folders: cannot open the PostgreSQL store postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere: .*check that PostgreSQL runs there, that the database exists and that its user may connect\n$/,
    );
    assert.doesNotMatch(noDatabase.stderr, /secret/);
    const noBus = await run(['--database', database.url, '--bus', 'nats://127.0.0.1:1']);
    assert.equal(noBus.code, 1);
    assert.match(
      noBus.stderr,
      /^shared-folders: cannot reach NATS at nats:\/\/127\.0\.0\.1:1 \(.*\): check that nats-server runs there and that --bus names it\n$/,
    );
    const alone = await run(['--bus', NATS_URL]);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--bus needs --database/);
  } finally {
    await database.drop();
  }
});

test('a process alone: /healthz says its database answers and it has no bus to ask', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-alone-'));
  const server = await RendezvousServer.start({ port: 0, dataDir: dir, nodeId: 'alone', log: quiet });
  try {
    const health = await healthz(server.port);
    assert.equal(health.status, 200);
    assert.deepEqual({ ...health.body, version: 0 }, { status: 'ok', version: 0, node: 'alone', database: 'ok', bus: 'local' });
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
