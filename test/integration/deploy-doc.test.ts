/**
 * docs/DEPLOY.md, run as written: each block marked `<!-- deploy-test: NAME -->` runs with bash
 * from the root of the checkout, with the page's variables (SF_*) set to loopback addresses, free
 * ports, temporary folders and throwaway databases. Real processes throughout: npm, the CLI's
 * server, openssl, curl, PostgreSQL's psql, pg_dump and pg_restore, NATS, HAProxy and
 * systemd-analyze; devices are the project's RendezvousClient.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { Client } from 'pg';
import { generateDeviceKeys, fingerprintOf, type DeviceKeys } from '../../src/node/crypto/device-keys';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';
import { sleep, waitFor } from './disk-cluster';
import { freePort, health } from './net-cluster';
import { NATS_URL, POSTGRES_ADMIN_URL } from './pg-database';

const ROOT = nodePath.resolve(__dirname, '../../..');
const DOC = nodePath.join(ROOT, 'docs/DEPLOY.md');

type Env = Readonly<Record<string, string>>;

/** The page's marked blocks by name. */
function blocks(): Map<string, string> {
  const text = fs.readFileSync(DOC, 'utf8');
  const found = new Map<string, string>();
  for (const m of text.matchAll(/<!-- deploy-test: ([\w-]+) -->\n```\w*\n([\s\S]*?)\n```/g)) found.set(m[1]!, m[2]!);
  return found;
}

function block(name: string): string {
  const text = blocks().get(name);
  if (text === undefined) throw new Error(`docs/DEPLOY.md has no block marked deploy-test: ${name}`);
  return text;
}

/** Runs a block to its end; fails with its output when it does not exit 0. */
function run(name: string, env: Env, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-euo', 'pipefail', '-c', block(name)],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => (err ? reject(new Error(`block ${name} failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** A block that runs until stopped (a server), in a process group of its own so stopping it reaches npm's children too. */
class Running {
  readonly child: ChildProcess;
  private output = '';

  constructor(
    readonly name: string,
    env: Env,
  ) {
    this.child = spawn('bash', ['-c', block(name)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => void (this.output = (this.output + chunk.toString()).slice(-20_000));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
  }

  get log(): string {
    return this.output;
  }

  /** SIGTERM to the whole group, as Ctrl-C or systemd would stop it; SIGKILL if it lingers 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(-child.pid!, 'SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => process.kill(-child.pid!, 'SIGKILL'))]);
    await exited;
  }
}

/** Waits until GET /healthz on `port` answers 200, over https trusting `ca` when given. */
async function healthy(running: Running, port: number, timeoutMs: number, ca?: string): Promise<void> {
  await waitFor(
    `${running.name} to answer /healthz on ${port}`,
    async () => {
      if (running.child.exitCode !== null) throw new Error(`${running.name} exited (${running.child.exitCode}): ${running.log}`);
      return (await health(port, ca)) === 200;
    },
    timeoutMs,
  );
}

/** A device signing in: a new user when `name` is given, else the registered device of `keys`. */
async function device(url: string, keys: DeviceKeys, options: { name?: string; caFile?: string } = {}): Promise<RendezvousClient> {
  const client = new RendezvousClient({
    url,
    keys,
    mode: 'session',
    ...(options.name ? { join: { name: options.name } } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
  });
  await client.connect();
  return client;
}

async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

test('deploy: one machine as DEPLOY.md says: npm start, TLS with a certificate, metrics, a backup of the data folder', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-deploy-'));
  const running: Running[] = [];
  const clients: RendezvousClient[] = [];
  try {
    const port = await freePort();
    const env = {
      SF_HOST: '127.0.0.1',
      SF_PORT: String(port),
      SF_DATA: nodePath.join(dir, 'data'),
      SF_NAME: 'localhost',
      SF_CERT: nodePath.join(dir, 'cert.pem'),
      SF_KEY: nodePath.join(dir, 'key.pem'),
      SF_METRICS: `127.0.0.1:${await freePort()}`,
      SF_DATA_BACKUP: nodePath.join(dir, 'data-backup'),
    };

    // npm start: it builds first, which takes a while on a busy machine.
    const started = new Running('npm-start', env);
    running.push(started);
    await healthy(started, port, 180_000);
    const early = await device(`ws://127.0.0.1:${port}`, generateDeviceKeys(), { name: 'early' });
    assert.equal(early.state?.user.name, 'early');
    await early.close();
    await started.stop();

    await run('tls-cert', env);
    const tls = new Running('tls-server', env);
    running.push(tls);
    await healthy(tls, port, 30_000, fs.readFileSync(env.SF_CERT, 'utf8'));
    const checked = await run('tls-check', env);
    assert.match(checked, /"status":"ok"/);
    assert.match(checked, /"database":"ok"/);
    assert.match(checked, /"bus":"local"/);
    assert.match(checked, /^sharedfolders_authenticated_connections 0$/m);
    const aliceKeys = generateDeviceKeys();
    const alice = await device(`wss://localhost:${port}`, aliceKeys, { name: 'alice', caFile: env.SF_CERT });
    clients.push(alice);
    assert.equal(alice.state?.user.name, 'alice');
    await alice.close();
    await tls.stop();

    // The copy of the stopped server's folder is a store a server runs on, with alice in it.
    await run('sqlite-backup', env);
    const restoredPort = await freePort();
    const restored = new Running('limits', { ...env, SF_DATA: env.SF_DATA_BACKUP, SF_PORT: String(restoredPort) });
    running.push(restored);
    await healthy(restored, restoredPort, 30_000);
    const again = await device(`ws://127.0.0.1:${restoredPort}`, aliceKeys);
    clients.push(again);
    assert.equal(again.state?.user.name, 'alice');
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    for (const r of running) await r.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The options of every server command on the page (the CLI's, npm start's and the unit's), continuation lines joined. */
function serverOptions(): Set<string> {
  const lines = [...blocks().values()].flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'));
  const commands = lines.filter((l) => /main\.js server | -- --/.test(l));
  return new Set(commands.flatMap((l) => [...l.matchAll(/ (--[a-z-]+)/g)].map((m) => m[1]!)));
}

test('deploy: the help the page points to lists every server option the page uses', async () => {
  const help = await run('help', {});
  const used = serverOptions();
  assert.ok(used.has('--database') && used.has('--tls-cert') && used.has('--connections-per-address'), [...used].join(' '));
  for (const option of used) if (option !== '--help') assert.match(help, new RegExp(`\\n  ${option} `), option);
});

test('deploy: the systemd unit passes systemd-analyze verify, and starts the server with the TLS command’s options', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-deploy-unit-'));
  try {
    const unit = nodePath.join(dir, 'shared-folders.service');
    fs.writeFileSync(unit, block('systemd-unit') + '\n');
    const verdict = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile('systemd-analyze', ['verify', unit], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err.code as number | undefined) ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    assert.deepEqual(verdict, { code: 0, out: '' });
    const execStart = /^ExecStart=(.*)$/m.exec(block('systemd-unit'))![1]!;
    const options = (text: string): string[] => [...text.matchAll(/(--[\w-]+)/g)].map((m) => m[1]!).sort();
    assert.match(execStart, / out\/src\/cli\/main\.js server /);
    assert.deepEqual(options(execStart), options(block('tls-server')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy: a cluster as DEPLOY.md says: PostgreSQL, NATS, three processes behind HAProxy, monitoring, pg_dump and pg_restore', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-deploy-cluster-'));
  const dbName = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const restoreName = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const running: Running[] = [];
  const clients: RendezvousClient[] = [];
  try {
    const nodes = await Promise.all([1, 2, 3].map(async (i) => ({ id: `node${i}`, port: await freePort(), metrics: await freePort() })));
    const lbPort = await freePort();
    const env = {
      SF_HOST: '127.0.0.1',
      SF_NAME: 'localhost',
      SF_CERT: nodePath.join(dir, 'cert.pem'),
      SF_KEY: nodePath.join(dir, 'key.pem'),
      SF_PG_ADMIN: POSTGRES_ADMIN_URL,
      SF_DB_NAME: dbName,
      SF_DATABASE: databaseUrl(dbName),
      SF_BUS: NATS_URL,
      SF_LB_BIND: `127.0.0.1:${lbPort}`,
      SF_LB_PEM: nodePath.join(dir, 'haproxy.pem'),
      SF_HAPROXY_CFG: nodePath.join(dir, 'haproxy.cfg'),
      SF_NODE1: `127.0.0.1:${nodes[0]!.port}`,
      SF_NODE2: `127.0.0.1:${nodes[1]!.port}`,
      SF_NODE3: `127.0.0.1:${nodes[2]!.port}`,
      SF_BACKUP: nodePath.join(dir, 'shared-folders.dump'),
      SF_RESTORE_DB_NAME: restoreName,
      SF_RESTORE_DATABASE: databaseUrl(restoreName),
    };
    const nodeEnv = (n: (typeof nodes)[number]): Env => ({
      ...env,
      SF_NODE_ID: n.id,
      SF_NODE_PORT: String(n.port),
      SF_NODE_METRICS: `127.0.0.1:${n.metrics}`,
    });

    await run('create-database', env);
    // Started together: their migrations run at once, under the lock.
    const processes = nodes.map((n) => new Running('cluster-node', nodeEnv(n)));
    running.push(...processes);
    await Promise.all(processes.map((p, i) => healthy(p, nodes[i]!.metrics, 60_000)));

    await run('tls-cert', env);
    await run('haproxy-pem', env);
    fs.writeFileSync(env.SF_HAPROXY_CFG, block('haproxy-cfg') + '\n');
    const haproxy = new Running('haproxy', env);
    running.push(haproxy);
    const ca = fs.readFileSync(env.SF_CERT, 'utf8');
    // Through HAProxy, once its checks have seen the processes up.
    await healthy(haproxy, lbPort, 30_000, ca);

    // alice and bob through the load balancer, which sends the second to a process with fewer devices.
    const url = `wss://localhost:${lbPort}`;
    const aliceKeys = generateDeviceKeys();
    const alice = await device(url, aliceKeys, { name: 'alice', caFile: env.SF_CERT });
    clients.push(alice);
    const bob = await device(url, generateDeviceKeys(), { name: 'bob', caFile: env.SF_CERT });
    clients.push(bob);
    const perProcess = await Promise.all(
      nodes.map(async (n) => {
        const metrics = await run('monitor', nodeEnv(n));
        return Number(/^sharedfolders_authenticated_connections (\d+)$/m.exec(metrics)![1]);
      }),
    );
    assert.deepEqual([...perProcess].sort(), [0, 1, 1], `devices per process: ${perProcess.join(', ')}`);

    // Contacts across processes: presence, and a relay frame through the bus.
    const token = String((await alice.request({ t: 'createInvite' }))['token']);
    await bob.request({ t: 'acceptInvite', token, fingerprint: fingerprintOf(aliceKeys) });
    let received: Uint8Array | undefined;
    bob.on('relay', (_from, payload) => (received = payload));
    await waitFor('bob to see alice online', async () => {
      const state = (await bob.request({ t: 'state' }))['state'] as { online: string[] };
      return state.online.includes(alice.device.id);
    });
    alice.relay(bob.device.id, new Uint8Array([1, 2, 3]));
    await waitFor('the relay frame at bob', () => received !== undefined, 10_000);
    assert.deepEqual([...received!], [1, 2, 3]);

    const monitored = await run('monitor', nodeEnv(nodes[0]!));
    assert.match(monitored, /"database":"ok"/);
    assert.match(monitored, /"bus":"ok"/);
    assert.match(monitored, /^sharedfolders_cluster_nodes_alive 3$/m);

    await run('backup', env);
    await run('restore', env);
    const restoredNode = { id: 'restored', port: await freePort(), metrics: await freePort() };
    const restored = new Running('cluster-node', { ...nodeEnv(restoredNode), SF_DATABASE: env.SF_RESTORE_DATABASE });
    running.push(restored);
    await healthy(restored, restoredNode.metrics, 60_000);
    const again = await device(`ws://127.0.0.1:${restoredNode.port}`, aliceKeys);
    clients.push(again);
    assert.equal(again.state?.user.name, 'alice');
    assert.deepEqual(
      again.state?.contacts.map((c) => c.name),
      ['bob'],
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    for (const r of running.reverse()) await r.stop();
    await dropDatabase(dbName);
    await dropDatabase(restoreName);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
