/**
 * Network benchmarks, against real processes on loopback:
 *  1. initial sync of 10,000 files (about 300 MiB) between two daemons through the relay, and
 *     the same data with Syncthing (Debian's package) as a ratio;
 *  2. propagation latency of a 1 KiB change, save on A to file on B's disk, p50 and p90, with
 *     Syncthing's at its minimum watcher delay beside it;
 *  3. bytes through the server for a 1-byte insert in the middle of a 100 MiB file, next to
 *     `rsync --stats` against an rsync daemon on loopback;
 *  4. idle authenticated connections with presence held by one server process, and relay
 *     messages routed per second.
 * `--files N` and `--connections N` scale the runs down for a quick look; `--only initial` runs
 * only the initial sync, ours then Syncthing's.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as nodePath from 'node:path';
import { freePort, NetWorld } from '../test/integration/net-cluster';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import { RendezvousClient } from '../src/node/net/rendezvous-client';
import { deviceIdOf, generateDeviceKeys, publicDeviceOf } from '../src/node/crypto/device-keys';
import { endorse, makeLinkGrant } from '../src/node/crypto/device-trust';
import { numberOption } from './bench-args';
import { percentile } from './percentile';

const FILES = numberOption('files', 10_000);
const CONNECTIONS = numberOption('connections', 10_000);
const LATENCY_SAMPLES = numberOption('samples', 40);
const ONLY_INITIAL = process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'initial';

const rnd = (n: number): Uint8Array => new Uint8Array(crypto.randomBytes(n));

/** The same bytes with one more in the middle. */
function insertByte(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out.set(data.subarray(0, data.length / 2));
  out[data.length / 2] = 0x42;
  out.set(data.subarray(data.length / 2), data.length / 2 + 1);
  return out;
}

const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
const secs = (ms: number): string => (ms / 1000).toFixed(2);

/** Polls every 2 ms: waitFor's 50 ms would add up to 50 ms to every latency sample. */
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Save on one side to identical bytes on the other, for a fresh 1 KiB file each time. */
async function propagation(from: string, to: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const content = rnd(1024);
    const name = `latency-${i}.bin`;
    const target = nodePath.join(to, name);
    const t0 = performance.now();
    fs.writeFileSync(nodePath.join(from, name), content);
    await until(
      name,
      () => {
        try {
          return fs.readFileSync(target).equals(content);
        } catch {
          return false;
        }
      },
      60_000,
    );
    latencies.push(performance.now() - t0);
    await sleep(100);
  }
  return latencies;
}

/** Files of 1 to 60 KiB (30 KiB on average), random content, in 100 folders. */
function generate(root: string, count: number): number {
  let total = 0;
  let seed = 1;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const size = 1024 + (seed % (59 * 1024));
    const dir = nodePath.join(root, `d${i % 100}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(nodePath.join(dir, `f${i}.bin`), rnd(size));
    total += size;
  }
  return total;
}

function treeBytes(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      // Either tool's own files and temps (which come and go while we look) are not the data.
      if (e.name.startsWith('.shared-folder') || e.name.startsWith('.st') || e.name.startsWith('.syncthing')) continue;
      const abs = nodePath.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) {
        const st = fs.statSync(abs, { throwIfNoEntry: false });
        if (!st) continue;
        files++;
        bytes += st.size;
      }
    }
  };
  walk(root);
  return { files, bytes };
}

async function ours(): Promise<{ syncMs: number; bytes: number; latencies: number[]; insertBytes: number }> {
  const world = new NetWorld();
  try {
    await world.alicesFolderWithBob();
    const bytes = generate(world.folder('a'), FILES);
    world.start('alice');
    await waitFor('alice to index the folder', () => /full scan done/.test(world.log('alice')), 600_000);
    const started = Date.now();
    world.start('bob');
    await waitFor(
      'bob to have every file',
      () => {
        const t = treeBytes(world.folder('b'));
        return t.files === FILES && t.bytes === bytes;
      },
      1_800_000,
    );
    const syncMs = Date.now() - started;
    if (ONLY_INITIAL) {
      // A graceful stop lets a profiled daemon (NODE_OPTIONS=--cpu-prof) write its profile.
      await world.stop('bob');
      await world.stop('alice');
      return { syncMs, bytes, latencies: [], insertBytes: 0 };
    }

    const latencies = await propagation(world.folder('a'), world.folder('b'));

    const big = nodePath.join(world.folder('a'), 'big.bin');
    const data = rnd(100 * 1024 * 1024);
    fs.writeFileSync(big, data);
    await waitFor(
      'the 100 MiB file on bob',
      () => fs.statSync(nodePath.join(world.folder('b'), 'big.bin'), { throwIfNoEntry: false })?.size === data.length,
      600_000,
    );
    await sleep(1500);
    const before = await world.metric('sharedfolders_routed_bytes_total');
    const inserted = insertByte(data);
    fs.writeFileSync(big, inserted);
    await waitFor(
      'the insert on bob',
      () => fs.statSync(nodePath.join(world.folder('b'), 'big.bin'), { throwIfNoEntry: false })?.size === inserted.length,
      120_000,
    );
    await sleep(2000);
    const insertBytes = (await world.metric('sharedfolders_routed_bytes_total')) - before;
    return { syncMs, bytes, latencies, insertBytes };
  } finally {
    await world.close();
  }
}

// ---- Syncthing -------------------------------------------------------------------------------

interface Syncthing {
  readonly process: ChildProcess;
  readonly gui: number;
  readonly apiKey: string;
  readonly id: string;
}

function syncthingAvailable(): boolean {
  try {
    execFileSync('syncthing', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function stConfig(home: string): { id: string } {
  execFileSync('syncthing', ['generate', `--home=${home}`], { stdio: 'ignore' });
  const id = execFileSync('syncthing', ['--device-id', `--home=${home}`])
    .toString()
    .trim();
  return { id };
}

function writeStConfig(
  home: string,
  self: { id: string; port: number; gui: number },
  peer: { id: string; port: number },
  folder: string,
  apiKey: string,
  watchDelay: number,
): void {
  const xml = `<configuration version="36">
  <folder id="bench" label="bench" path="${folder}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="${watchDelay}">
    <device id="${self.id}"></device>
    <device id="${peer.id}"></device>
    <minDiskFree unit="%">0</minDiskFree>
  </folder>
  <device id="${self.id}" name="self" compression="never"><address>dynamic</address></device>
  <device id="${peer.id}" name="peer" compression="never"><address>tcp://127.0.0.1:${peer.port}</address></device>
  <gui enabled="true" tls="false"><address>127.0.0.1:${self.gui}</address><apikey>${apiKey}</apikey></gui>
  <options>
    <listenAddress>tcp://127.0.0.1:${self.port}</listenAddress>
    <globalAnnounceEnabled>false</globalAnnounceEnabled>
    <localAnnounceEnabled>false</localAnnounceEnabled>
    <relaysEnabled>false</relaysEnabled>
    <natEnabled>false</natEnabled>
    <urAccepted>-1</urAccepted>
    <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
    <crashReportingEnabled>false</crashReportingEnabled>
    <startBrowser>false</startBrowser>
  </options>
</configuration>
`;
  fs.writeFileSync(nodePath.join(home, 'config.xml'), xml);
}

function startSyncthing(home: string, gui: number, apiKey: string, id: string): Syncthing {
  const process = spawn('syncthing', ['serve', `--home=${home}`, '--no-browser', '--no-restart', '--no-upgrade'], {
    stdio: 'ignore',
    env: { ...globalThis.process.env, STNODEFAULTFOLDER: '1', STNOUPGRADE: '1' },
  });
  return { process, gui, apiKey, id };
}

function stGet(st: Syncthing, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: st.gui, path, headers: { 'X-API-Key': st.apiKey }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`syncthing ${path}: ${body.slice(0, 100)}`));
        }
      });
    });
    req.on('error', reject);
  });
}

async function syncthing(dir: string, bytes: number, source: string): Promise<{ syncMs: number; latencies: number[] } | string> {
  if (!syncthingAvailable()) return 'Syncthing is not installed (apt-get install syncthing)';
  const homes = [nodePath.join(dir, 'st-a'), nodePath.join(dir, 'st-b')];
  const folders = [nodePath.join(dir, 'st-folder-a'), nodePath.join(dir, 'st-folder-b')];
  for (const d of [...homes, ...folders]) fs.mkdirSync(d, { recursive: true });
  fs.cpSync(source, folders[0]!, { recursive: true, filter: (src) => !nodePath.basename(src).startsWith('.shared-folder') });
  const ids = homes.map((h) => stConfig(h).id);
  const ports = [await freePort(), await freePort()];
  const guis = [await freePort(), await freePort()];
  const key = crypto.randomBytes(16).toString('hex');
  writeStConfig(homes[0]!, { id: ids[0]!, port: ports[0]!, gui: guis[0]! }, { id: ids[1]!, port: ports[1]! }, folders[0]!, key, 1);
  writeStConfig(homes[1]!, { id: ids[1]!, port: ports[1]!, gui: guis[1]! }, { id: ids[0]!, port: ports[0]! }, folders[1]!, key, 1);
  const a = startSyncthing(homes[0]!, guis[0]!, key, ids[0]!);
  let b: Syncthing | undefined;
  try {
    // A first: let it finish scanning before B starts, as for ours.
    await waitFor(
      'syncthing A to scan',
      async () => {
        try {
          const s = (await stGet(a, '/rest/db/status?folder=bench')) as { state: string; localFiles: number };
          return s.state === 'idle' && s.localFiles >= FILES;
        } catch {
          return false;
        }
      },
      600_000,
    );
    const started = Date.now();
    b = startSyncthing(homes[1]!, guis[1]!, key, ids[1]!);
    await waitFor(
      'syncthing B to have every file',
      () => {
        const t = treeBytes(folders[1]!);
        return t.files === FILES && t.bytes === bytes;
      },
      1_800_000,
    );
    const syncMs = Date.now() - started;
    const latencies = ONLY_INITIAL ? [] : await propagation(folders[0]!, folders[1]!);
    return { syncMs, latencies };
  } finally {
    a.process.kill('SIGKILL');
    b?.process.kill('SIGKILL');
  }
}

// ---- rsync -----------------------------------------------------------------------------------

async function rsyncInsertBytes(dir: string): Promise<number | string> {
  try {
    execFileSync('rsync', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'rsync is not installed (apt-get install rsync)';
  }
  const module = nodePath.join(dir, 'rsync-module');
  const local = nodePath.join(dir, 'rsync-local');
  fs.mkdirSync(module, { recursive: true });
  fs.mkdirSync(local, { recursive: true });
  const conf = nodePath.join(dir, 'rsyncd.conf');
  const port = await freePort();
  fs.writeFileSync(
    conf,
    `pid file = ${dir}/rsyncd.pid\nport = ${port}\naddress = 127.0.0.1\nuse chroot = no\n[bench]\npath = ${module}\nread only = no\nuid = root\ngid = root\n`,
  );
  execFileSync('rsync', ['--daemon', `--config=${conf}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    const data = rnd(100 * 1024 * 1024);
    fs.writeFileSync(nodePath.join(local, 'big.bin'), data);
    execFileSync('rsync', ['-a', nodePath.join(local, 'big.bin'), `rsync://127.0.0.1:${port}/bench/`]);
    fs.writeFileSync(nodePath.join(local, 'big.bin'), insertByte(data));
    const out = execFileSync('rsync', [
      '-a',
      '--stats',
      '--no-whole-file',
      nodePath.join(local, 'big.bin'),
      `rsync://127.0.0.1:${port}/bench/`,
    ]).toString();
    const sent = Number(/Total bytes sent: ([\d,]+)/.exec(out)![1]!.replace(/,/g, ''));
    const received = Number(/Total bytes received: ([\d,]+)/.exec(out)![1]!.replace(/,/g, ''));
    return sent + received;
  } finally {
    try {
      process.kill(Number(fs.readFileSync(nodePath.join(dir, 'rsyncd.pid'), 'utf8')));
    } catch {
      // Already gone.
    }
  }
}

// ---- server capacity -------------------------------------------------------------------------

async function capacity(): Promise<{ connections: number; serverRssMiB: number; perSecond: number }> {
  // The server in a process of its own, as deployed: its memory is measured alone, and each
  // process stays within its file-descriptor limit.
  const world = new NetWorld();
  const clients: RendezvousClient[] = [];
  try {
    // The per-connection limit would otherwise close the one sender below, and the account limits
    // refuse most of these accounts from one address, as the cap per address would these
    // connections: the point is the server's own capacity.
    await world.startServer([
      '--rate-limit',
      '10000000',
      '--accounts-per-address',
      '1000000',
      '--accounts-per-hour',
      '1000000',
      '--connections-per-address',
      String(CONNECTIONS + 100),
    ]);
    const BATCH = 200;
    for (let i = 0; i < CONNECTIONS; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, CONNECTIONS - i) }, (_, j) => {
        const c = new RendezvousClient({ url: world.url, keys: generateDeviceKeys(), join: { name: `user${i + j}` }, mode: 'session' });
        clients.push(c);
        return c.connect();
      });
      await Promise.all(batch);
    }
    await sleep(2000);
    const held = await world.metric('sharedfolders_authenticated_connections');
    const status = fs.readFileSync(`/proc/${world.server!.pid}/status`, 'utf8');
    const serverRssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;

    // Relay throughput: two devices of one user (linked), one sending to the other.
    const senderKeys = generateDeviceKeys();
    const sender = new RendezvousClient({ url: world.url, keys: senderKeys, join: { name: 'sender' }, mode: 'session' });
    const senderState = await sender.connect();
    const token = String((await sender.request({ t: 'createLink' }))['token']);
    const receiverKeys = generateDeviceKeys();
    // A linked device must carry the endorsement of the link code's one-time key, as `init --link` makes it.
    const grant = makeLinkGrant(senderKeys, sender.device.id, senderState.user.id);
    const endorsement = endorse(grant, publicDeviceOf(receiverKeys));
    const receiver = new RendezvousClient({ url: world.url, keys: receiverKeys, join: { link: token }, endorsement, mode: 'session' });
    await receiver.connect();
    let got = 0;
    receiver.on('relay', () => got++);
    const payload = rnd(256);
    const target = deviceIdOf(receiverKeys);
    const started = performance.now();
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      sender.relay(target, payload);
      if (sender.buffered > 1024 * 1024) await sleep(1);
    }
    await waitFor('every relayed message', () => got >= N, 300_000);
    const perSecond = N / ((performance.now() - started) / 1000);
    await sender.close();
    await receiver.close();
    return { connections: held, serverRssMiB, perSecond };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await world.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `bench:net: ${FILES.toLocaleString()} files, ${LATENCY_SAMPLES} latency samples, ${CONNECTIONS.toLocaleString()} connections`,
  );
  if (!ONLY_INITIAL) {
    const cap = await capacity();
    console.log(
      `server: ${cap.connections.toLocaleString()} idle authenticated connections with presence held (target 10,000), server RSS ${cap.serverRssMiB.toFixed(0)} MiB`,
    );
    console.log(`server: ${Math.round(cap.perSecond).toLocaleString()} relay messages of 256 bytes routed per second`);
  }

  const r = await ours();
  console.log(
    `initial sync, ${FILES.toLocaleString()} files, ${mib(r.bytes)} MiB, through the relay: ${secs(r.syncMs)} s, ${mib(r.bytes / (r.syncMs / 1000))} MiB/s`,
  );
  if (!ONLY_INITIAL) {
    console.log(
      `propagation of a 1 KiB change, save on A to file on B: p50 ${percentile(r.latencies, 50).toFixed(0)} ms, p90 ${percentile(r.latencies, 90).toFixed(0)} ms (target p50 under 100 ms)`,
    );
    console.log(`1-byte insert in the middle of a 100 MiB file: ${r.insertBytes.toLocaleString()} bytes through the server`);
  }

  const dir = fs.mkdtempSync('/tmp/sf-bench-peers-');
  try {
    if (!ONLY_INITIAL) {
      const rsync = await rsyncInsertBytes(dir);
      console.log(
        typeof rsync === 'number'
          ? `rsync --stats, same insert, rsync daemon on loopback: ${rsync.toLocaleString()} bytes; ours / rsync = ${(r.insertBytes / rsync).toFixed(2)}`
          : `rsync: ${rsync}`,
      );
    }
    const source = nodePath.join(dir, 'source');
    const bytes = generate(source, FILES);
    const st = await syncthing(dir, bytes, source);
    if (typeof st === 'string') console.log(`syncthing: ${st}`);
    else {
      console.log(
        `syncthing initial sync of the same kind of data: ${secs(st.syncMs)} s, ${mib(bytes / (st.syncMs / 1000))} MiB/s; ours / syncthing = ${(r.syncMs / st.syncMs).toFixed(2)}`,
      );
      if (!ONLY_INITIAL)
        console.log(
          `syncthing propagation (fsWatcherDelayS=1, its minimum): p50 ${percentile(st.latencies, 50).toFixed(0)} ms, p90 ${percentile(st.latencies, 90).toFixed(0)} ms`,
        );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
