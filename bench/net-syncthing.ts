import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as nodePath from 'node:path';
import { waitFor } from '../test/integration/disk-cluster';
import { freePort } from '../test/integration/net-cluster';
import { propagation, treeBytes } from './net-data';

/** Syncthing (Debian's package) as the peer of bench:net's first sync and latency, two instances on loopback. */

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

/**
 * Syncthing's first sync of `source` (`files` files, `bytes` bytes) from A to B, on loopback,
 * then `samples` latency samples (save on A to bytes on B, at its minimum watcher delay); a
 * string says why it could not run.
 */
export async function syncthing(
  dir: string,
  source: string,
  files: number,
  bytes: number,
  samples: number,
): Promise<{ syncMs: number; latencies: number[] } | string> {
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
          return s.state === 'idle' && s.localFiles >= files;
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
        return t.files === files && t.bytes === bytes;
      },
      1_800_000,
    );
    const syncMs = Date.now() - started;
    const latencies = samples > 0 ? await propagation(folders[0]!, folders[1]!, samples) : [];
    return { syncMs, latencies };
  } finally {
    a.process.kill('SIGKILL');
    b?.process.kill('SIGKILL');
  }
}
