/**
 * TLS between devices and the server, through real processes: a throwaway CA and server
 * certificates made with openssl for this run, the real server with --tls-cert/--tls-key, real
 * daemons and CLI commands with --ca. And /metrics: off the public port, on --metrics-host.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { sleep, waitFor } from './disk-cluster';
import { cli, NetWorld, readText } from './net-cluster';

const SYNC_MS = 30_000;

interface Pki {
  readonly ca: string;
  /** A certificate for 127.0.0.1 signed by the CA, and its key. */
  readonly cert: string;
  readonly key: string;
  /** A certificate signed by the same CA for another host name, and its key. */
  readonly otherHostCert: string;
  readonly otherHostKey: string;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and two leaf certificates it signs; openssl must be installed (it is on Debian and macOS by default). */
function makePki(dir: string): Pki {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Shared Folders test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const leaf = (name: string, altName: string): void => {
    fs.writeFileSync(
      nodePath.join(dir, `${name}.ext`),
      `subjectAltName=${altName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    ]);
  };
  leaf('server', 'IP:127.0.0.1');
  leaf('elsewhere', 'DNS:elsewhere.example');
  const at = (f: string): string => nodePath.join(dir, f);
  return {
    ca: at('ca.pem'),
    cert: at('server.pem'),
    key: at('server.key'),
    otherHostCert: at('elsewhere.pem'),
    otherHostKey: at('elsewhere.key'),
  };
}

function at(world: NetWorld, file: string): string {
  return nodePath.join(world.dir, file);
}

function tlsWorld(which: 'right host' | 'wrong host' = 'right host'): NetWorld {
  const world = new NetWorld();
  const pki = makePki(nodePath.join(world.dir, 'pki'));
  world.tls =
    which === 'right host' ? { cert: pki.cert, key: pki.key, ca: pki.ca } : { cert: pki.otherHostCert, key: pki.otherHostKey, ca: pki.ca };
  return world;
}

/** Status and body of a GET, over https trusting `ca` when it is given. */
function get(port: number, path: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, timeout: 5000 };
    const answered = (res: http.IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = ca === undefined ? http.get(options, answered) : https.get({ ...options, ca }, answered);
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
  });
}

test('tls: openssl is installed, to make the throwaway CA', () => {
  assert.doesNotThrow(() => execFileSync('openssl', ['version'], { stdio: 'ignore' }), 'these tests need the openssl command');
});

test('tls: two daemons sign up, share and sync over wss:// trusting a private CA with --ca', async () => {
  const world = tlsWorld();
  try {
    assert.match(world.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    const space = await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    const started = Date.now();
    fs.mkdirSync(world.folder('a'), { recursive: true });
    fs.writeFileSync(nodePath.join(world.folder('a'), 'over-tls.txt'), 'from alice, encrypted twice\n');
    await waitFor(
      "over-tls.txt in bob's folder",
      () => readText(nodePath.join(world.folder('b'), 'over-tls.txt')) === 'from alice, encrypted twice\n',
      SYNC_MS,
    );
    fs.writeFileSync(nodePath.join(world.folder('b'), 'reply.txt'), 'from bob\n');
    await waitFor("reply.txt in alice's folder", () => readText(nodePath.join(world.folder('a'), 'reply.txt')) === 'from bob\n', SYNC_MS);
    assert.ok(space.length > 0);
    assert.match(fs.readFileSync(world.serverLog, 'utf8'), /"listening".*"tls":true/);
    // A signed-in wss:// connection outlives the time an HTTP request has to complete (10 s): the
    // server's timer for unfinished requests must see the upgrade on the TLS socket too.
    await sleep(Math.max(0, started + 12_000 - Date.now()));
    fs.writeFileSync(nodePath.join(world.folder('a'), 'later.txt'), 'still connected\n');
    await waitFor(
      "later.txt in bob's folder",
      () => readText(nodePath.join(world.folder('b'), 'later.txt')) === 'still connected\n',
      SYNC_MS,
    );
    assert.doesNotMatch(fs.readFileSync(world.serverLog, 'utf8'), /requestTimedOut/);
  } finally {
    await world.close();
  }
});

test('tls: a device without --ca is refused, naming the untrusted certificate and the fix; SHARED_FOLDERS_CA is --ca too', async () => {
  const world = tlsWorld();
  try {
    await world.startServer();
    const refused = await cli(['init', '--home', world.home('mallory'), '--name', 'mallory', '--server', world.url]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(
      refused.stderr.trim(),
      `shared-folders: the server's certificate at ${world.url} is not signed by an authority this device trusts ` +
        '(unable to verify the first certificate): if the server uses a private CA, give its certificate with --ca FILE ' +
        'or the sharedFolders.caFile setting',
    );
    assert.equal(fs.existsSync(nodePath.join(world.home('mallory'), 'identity.json')), false, 'no identity is saved');
    const viaVariable = await cli(['init', '--home', world.home('carol'), '--name', 'carol', '--server', world.url], 30_000, {
      SHARED_FOLDERS_CA: world.tls!.ca,
    });
    assert.equal(viaVariable.code, 0, viaVariable.stderr);
    const noFile = await cli([
      'init',
      '--home',
      world.home('dave'),
      '--name',
      'dave',
      '--server',
      world.url,
      '--ca',
      at(world, 'no-such.pem'),
    ]);
    assert.equal(noFile.code, 1);
    assert.equal(noFile.stderr.trim(), `shared-folders: --ca: the CA file ${at(world, 'no-such.pem')} does not exist: check the path`);
  } finally {
    await world.close();
  }
});

test('tls: a certificate for another host name is refused, naming the host name', async () => {
  const world = tlsWorld('wrong host');
  try {
    await world.startServer();
    const r = await cli(['init', '--home', world.home('alice'), '--name', 'alice', '--server', world.url, '--ca', world.tls!.ca]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr.trim(),
      "shared-folders: the server's certificate is not for the host name 127.0.0.1 (it is for DNS:elsewhere.example): " +
        'connect by a name the certificate is for, or give the server a certificate for this name',
    );
  } finally {
    await world.close();
  }
});

test('tls: /healthz over https on the public port; /metrics only on --metrics-host', async () => {
  const world = tlsWorld();
  try {
    await world.startServer();
    const ca = fs.readFileSync(world.tls!.ca, 'utf8');
    const healthz = await get(world.port, '/healthz', ca);
    assert.equal(healthz.status, 200);
    assert.equal(JSON.parse(healthz.body).status, 'ok');
    assert.equal((await get(world.port, '/metrics', ca)).status, 404, 'the public port keeps its counters to itself');
    const metrics = await get(world.metricsPort, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^sharedfolders_connections \d+$/m);
  } finally {
    await world.close();
  }
});

test('tls: without TLS too, the public port does not serve /metrics', async () => {
  const world = new NetWorld();
  try {
    await world.startServer();
    assert.equal((await get(world.port, '/healthz')).status, 200);
    assert.equal((await get(world.port, '/metrics')).status, 404);
    assert.equal((await get(world.metricsPort, '/metrics')).status, 200);
  } finally {
    await world.close();
  }
});

test('tls: missing, unreadable or mismatched certificate files stop the server with a line naming the file', async () => {
  const world = tlsWorld();
  try {
    const pki = world.tls!;
    const server = (extra: readonly string[]): Promise<{ code: number; stderr: string }> =>
      cli(['server', '--port', '0', '--data', at(world, 'data'), ...extra]);
    const missing = await server(['--tls-cert', at(world, 'missing.pem'), '--tls-key', pki.key]);
    assert.deepEqual(
      [missing.code, missing.stderr.trim()],
      [1, `shared-folders: --tls-cert ${at(world, 'missing.pem')} does not exist: check the path`],
    );
    const notPem = await server(['--tls-cert', pki.key, '--tls-key', pki.key]);
    assert.equal(notPem.code, 1);
    assert.match(notPem.stderr, /--tls-cert .+server\.key is not a PEM certificate/);
    const otherKey = nodePath.join(nodePath.dirname(pki.cert), 'elsewhere.key');
    const mismatched = await server(['--tls-cert', pki.cert, '--tls-key', otherKey]);
    assert.deepEqual(
      [mismatched.code, mismatched.stderr.trim()],
      [1, `shared-folders: --tls-key ${otherKey} is not the key of --tls-cert ${pki.cert}: give the key the certificate was made for`],
    );
    const half = await server(['--tls-cert', pki.cert]);
    assert.deepEqual(
      [half.code, half.stderr.trim()],
      [2, 'shared-folders: --tls-cert needs --tls-key FILE too: the private key of the certificate'],
    );
  } finally {
    await world.close();
  }
});

test('tls: a --metrics-host port in use is named as such, and the server does not start', async () => {
  const world = new NetWorld();
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    const r = await cli(['server', '--port', '0', '--data', at(world, 'data'), '--metrics-host', `127.0.0.1:${port}`]);
    assert.deepEqual(
      [r.code, r.stderr.trim()],
      [1, `shared-folders: --metrics-host 127.0.0.1:${port} is already in use by another program: choose another port`],
    );
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    await world.close();
  }
});
