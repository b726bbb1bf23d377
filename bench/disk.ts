/**
 * `npm run bench:disk`: a disk replica on a real folder of 100,000 files (about 1 GiB).
 * Prints the first scan against sha256sum over the same files, a rescan with nothing changed,
 * a restart, the delay from a file save to the change being in the index (p50, p90), and, in a
 * child process, the peak RSS of a replica holding 1,000,000 records.
 *
 * Options: --files N (100000), --dir PATH (a temp dir), --records N (1000000), --keep.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { DiskReplica } from '../src/node/disk/disk-replica';
import { DiskStore } from '../src/node/disk/disk-store';
import { Prng } from '../test/sim/prng';
import { option } from './bench-args';
import { percentile } from './percentile';

const FILES = Number(option('files', '100000'));
const RECORDS = Number(option('records', '1000000'));
const base = option('dir', fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-bench-disk-')));
const root = nodePath.join(base, 'folder');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** 100 files per folder, sizes spread from 0 to 20 KiB (mean about 10 KiB), random bytes. */
function generate(): number {
  const rng = new Prng(42);
  const pool = rng.bytes(1 << 20);
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = nodePath.join(root, `d${Math.floor(i / 100) % 100}`, `e${Math.floor(i / 10_000)}-${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    const size = rng.int(20_481);
    const start = rng.int(pool.length - size);
    const data = pool.slice(start, start + size);
    // Distinct content per file, so no two files share blocks.
    if (size >= 4) new DataView(data.buffer).setUint32(0, i, true);
    fs.writeFileSync(nodePath.join(dir, `f${i}.dat`), data);
    bytes += size;
  }
  return bytes;
}

async function main(): Promise<void> {
  console.log(`bench:disk in ${base}`);
  await DiskStore.initFolder(root);
  let t = Date.now();
  const bytes = generate();
  const mib = bytes / 1024 / 1024;
  console.log(`generated ${FILES.toLocaleString()} files, ${mib.toFixed(0)} MiB, in ${seconds(Date.now() - t)}`);

  // sha256sum over the same files (warm cache, as the scan below runs warm too).
  const list = nodePath.join(base, 'files.txt');
  execFileSync('sh', ['-c', `cd "${root}" && find . -path ./.shared-folder -prune -o -type f -print0 > "${list}"`]);
  for (let pass = 0; pass < 2; pass++) execFileSync('sh', ['-c', `cd "${root}" && xargs -0 cat < "${list}" > /dev/null`]);
  t = Date.now();
  execFileSync('sh', ['-c', `cd "${root}" && xargs -0 sha256sum < "${list}" > /dev/null`]);
  const shaMs = Date.now() - t;

  const open = (): Promise<DiskReplica> =>
    DiskReplica.open({ root, stateDir: nodePath.join(base, 'state'), user: 'bench', watch: false, port: { send: () => undefined } });
  let disk = await open();
  t = Date.now();
  await disk.scan();
  const scanMs = Date.now() - t;
  const records = disk.replica.records().length;
  console.log(
    `first scan: ${seconds(scanMs)}, ${(mib / (scanMs / 1000)).toFixed(0)} MiB/s, ${records.toLocaleString()} records; ` +
      `sha256sum: ${seconds(shaMs)}, ${(mib / (shaMs / 1000)).toFixed(0)} MiB/s; sha256sum time / scan time = ${(shaMs / scanMs).toFixed(2)}`,
  );

  const rescans: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = Date.now();
    const report = await disk.scan();
    rescans.push(Date.now() - t);
    if (report.changed !== 0) throw new Error(`a rescan of an unchanged folder changed ${report.changed} records`);
  }
  console.log(`rescan, nothing changed: ${rescans.map(seconds).join(', ')} (best ${seconds(Math.min(...rescans))})`);

  await disk.close();
  t = Date.now();
  disk = await open();
  const loadMs = Date.now() - t;
  await disk.scan();
  console.log(`restart: state load ${seconds(loadMs)}, then rescan ${seconds(Date.now() - t - loadMs)}`);
  await disk.close();

  // Save to index: the watcher sees the save, the scoped scan digests and commits it.
  const latencies: number[] = [];
  let resolveSeen: (() => void) | undefined;
  let waitingFor = '';
  disk = await DiskReplica.open({
    root,
    stateDir: nodePath.join(base, 'state'),
    user: 'bench',
    port: { send: () => undefined },
    onScan: () => {
      if (waitingFor && disk?.replica.record(waitingFor)?.size === 777) resolveSeen?.();
    },
  });
  await disk.start();
  for (let i = 0; i < 60; i++) {
    const path = `d${i % 100}/e0-${i % 100}/f${(i % 100) * 100 + (i % 100)}.dat`;
    const abs = nodePath.join(root, path);
    if (!fs.existsSync(abs)) continue;
    const seen = new Promise<void>((resolve) => (resolveSeen = resolve));
    waitingFor = path;
    const start = performance.now();
    fs.writeFileSync(abs, new Uint8Array(777).fill(i));
    await Promise.race([seen, new Promise((r) => setTimeout(r, 10_000))]);
    latencies.push(performance.now() - start);
    waitingFor = '';
    await new Promise((r) => setTimeout(r, 50));
  }
  await disk.close();
  latencies.sort((a, b) => a - b);
  console.log(
    `save to index (${latencies.length} saves, watcher on ${FILES.toLocaleString()} files): p50 ${percentile(latencies, 50).toFixed(0)} ms, p90 ${percentile(latencies, 90).toFixed(0)} ms`,
  );

  const rss = spawnSync(
    process.execPath,
    [nodePath.join(__dirname, 'disk-records.js'), '--records', String(RECORDS), '--dir', nodePath.join(base, 'records')],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  process.stdout.write(rss.stdout);
  if (!process.argv.includes('--keep')) fs.rmSync(base, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
