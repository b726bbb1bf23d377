/**
 * `npm run bench:net`: issue 17's table, every figure measured in one run on this machine, ours
 * beside the peer tool's where there is one (Syncthing, rsync), against real processes on loopback:
 *  1. first sync of N files (10,000, about 300 MiB): ours over a direct link, ours over the relay
 *     (`run --no-direct`), Syncthing on the same kind of data;
 *  2. bytes that cross for a 1-byte insert in the middle of a 100 MiB file: a direct link's TCP
 *     bytes, the server's relay bytes; `rsync --stats` against an rsync daemon;
 *  3. save on A to bytes on B's disk for a 1 KiB file, p50 and p90, direct and relay; Syncthing's;
 *  4. disk kept beside a folder for merge bases, for an installed node_modules tree (net-bases.ts);
 *  5. RSS of idle daemons with a 130-file folder (net-idle-memory.ts);
 *  6. a replica of 1,000,000 records: peak RSS and open time (disk-records.ts).
 * Ratios are printed, never asserted. Options: `--files N`, `--samples N`, `--records N`,
 * `--idle-seconds N`, `--only first-sync,insert,latency,bases,memory,records`. Server
 * connection capacity is bench:scale's now.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { mergeBases, type BasesFigures } from './net-bases';
import { generate, MIB } from './net-data';
import { idleMemory, type IdleMemory } from './net-idle-memory';
import { hasDirectLinks, ourPair, type LinkMode, type PairFigures } from './net-ours';
import { replicaRecords, type RecordsFigures } from './net-records';
import { rsyncInsertBytes } from './net-rsync';
import { syncthing } from './net-syncthing';
import { ratio, tableText, type Row } from './net-table';
import { numberOption, option } from './bench-args';
import { percentile } from './percentile';

const MEASUREMENTS = ['first-sync', 'insert', 'latency', 'bases', 'memory', 'records'] as const;
type Measurement = (typeof MEASUREMENTS)[number];

const FILES = numberOption('files', 10_000);
const SAMPLES = numberOption('samples', 40);
const RECORDS = numberOption('records', 1_000_000);
const IDLE_SECONDS = numberOption('idle-seconds', 20);
const IDLE_FILES = 130;

function selected(): Set<Measurement> {
  const text = option('only', MEASUREMENTS.join(','));
  const names = text.split(',').map((s) => s.trim());
  for (const n of names)
    if (!(MEASUREMENTS as readonly string[]).includes(n)) throw new Error(`--only takes some of ${MEASUREMENTS.join(',')}, not "${n}"`);
  return new Set(names as Measurement[]);
}

const secs = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
const p = (l: number[] | undefined, q: number): number | undefined => (l && l.length > 0 ? percentile(l, q) : undefined);
const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(0)} ms`);
const ofGoal = (value: number, goal: number): string => `${(value / goal).toFixed(2)} of goal`;

function machine(): string {
  const cpus = os.cpus();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, load average at start ${load}`;
}

/** What failed, printed under the table: one measurement failing leaves the others' figures. */
const failures: string[] = [];

async function attempt<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    failures.push(`${what}: ${(err as Error).message}`);
    console.log(`${what} failed: ${(err as Error).message}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const only = selected();
  console.log(`bench:net on ${machine()}`);
  console.log(
    `${FILES.toLocaleString()} files, ${SAMPLES} latency samples, ${RECORDS.toLocaleString()} records; measuring ${[...only].join(', ')}`,
  );
  const direct = await hasDirectLinks();
  const modes: LinkMode[] = direct ? ['direct', 'relay'] : ['relay'];
  if (!direct) console.log('this build has no direct links (run has no --no-direct): the direct rows stay empty');

  const pairs = new Map<LinkMode, PairFigures>();
  const plan = {
    files: FILES,
    samples: SAMPLES,
    firstSync: only.has('first-sync'),
    latency: only.has('latency'),
    insert: only.has('insert'),
  };
  if (plan.firstSync || plan.latency || plan.insert)
    for (const mode of modes) {
      const figures = await attempt(`ours, ${mode}`, () => ourPair(mode, plan));
      if (!figures) continue;
      pairs.set(mode, figures);
      console.log(`ours, ${mode}: path reported ${figures.path}; ${JSON.stringify({ ...figures, latencies: undefined })}`);
    }

  let st: { syncMs: number; latencies: number[] } | string | undefined;
  let rsync: number | string | undefined;
  const dir = fs.mkdtempSync('/tmp/sf-bench-peers-');
  try {
    if (plan.insert) rsync = await attempt('rsync', () => rsyncInsertBytes(dir));
    if (plan.firstSync || plan.latency) {
      const source = nodePath.join(dir, 'source');
      const files = plan.firstSync ? FILES : 1;
      const bytes = generate(source, files);
      st = await attempt('syncthing', () => syncthing(dir, source, files, bytes, plan.latency ? SAMPLES : 0));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (typeof st === 'string') console.log(`syncthing: ${st}`);
  if (typeof rsync === 'string') console.log(`rsync: ${rsync}`);
  const stFig = typeof st === 'object' ? st : undefined;
  const rsyncBytes = typeof rsync === 'number' ? rsync : undefined;

  const bases: BasesFigures | undefined = only.has('bases') ? await attempt('merge bases', mergeBases) : undefined;
  const memory: IdleMemory | undefined = only.has('memory')
    ? await attempt('idle memory', () => idleMemory(IDLE_FILES, IDLE_SECONDS))
    : undefined;
  const records: RecordsFigures | undefined = only.has('records') ? await attempt('records', () => replicaRecords(RECORDS)) : undefined;

  const rows: Row[] = [];
  const modeRows = (make: (mode: LinkMode, f: PairFigures | undefined) => Row): void => {
    for (const mode of ['direct', 'relay'] as const) rows.push(make(mode, pairs.get(mode)));
  };
  if (plan.firstSync) {
    const bytes = pairs.get('relay')?.bytes ?? 0;
    modeRows((mode, f) => ({
      figure: `first sync, ${FILES.toLocaleString()} files ${(bytes / MIB).toFixed(0)} MiB, ${mode}`,
      ours: secs(f?.syncMs),
      peer: `Syncthing ${secs(stFig?.syncMs)}`,
      ratio: ratio(f?.syncMs, stFig?.syncMs),
      goal: mode === 'direct' ? '<= 0.5' : '<= 1.0',
    }));
  }
  if (plan.insert)
    modeRows((mode, f) => ({
      figure: `bytes for a 1-byte insert in 100 MiB, ${mode === 'direct' ? 'direct link' : 'server relay'}`,
      ours: f?.insertBytes === undefined ? 'n/a' : f.insertBytes.toLocaleString(),
      peer: `rsync ${rsyncBytes?.toLocaleString() ?? 'n/a'}`,
      ratio: ratio(f?.insertBytes, rsyncBytes),
      goal: '<= 0.5',
    }));
  if (plan.latency)
    modeRows((mode, f) => ({
      figure: `save on A to disk on B, 1 KiB, p50 (p90), ${mode}`,
      ours: `${ms(p(f?.latencies, 50))} (${ms(p(f?.latencies, 90))})`,
      peer: `Syncthing ${ms(p(stFig?.latencies, 50))} (${ms(p(stFig?.latencies, 90))})`,
      ratio: ratio(p(f?.latencies, 50), p(stFig?.latencies, 50)),
      goal: mode === 'direct' ? 'p50 < 25 ms' : 'p50 < 50 ms',
    }));
  if (bases)
    rows.push({
      figure: `merge-base store / folder, ${bases.files.toLocaleString()} files of node_modules`,
      ours: `${mb(bases.store.apparent)} of ${mb(bases.folderBytes)}`,
      peer: '-',
      ratio: `${((bases.store.apparent / bases.folderBytes) * 100).toFixed(1)}%`,
      goal: '<= 10%',
    });
  if (memory)
    rows.push({
      figure: `RSS of an idle daemon, ${IDLE_FILES}-file folder, ${IDLE_SECONDS} s after sync`,
      ours: `alice ${memory.aliceMiB.toFixed(0)} MiB, bob ${memory.bobMiB.toFixed(0)} MiB`,
      peer: '-',
      ratio: ofGoal(Math.max(memory.aliceMiB, memory.bobMiB), 60),
      goal: '<= 60 MiB',
    });
  if (records) {
    rows.push({
      figure: `replica of ${RECORDS.toLocaleString()} records, peak RSS`,
      ours: `${records.peakMiB} MiB`,
      peer: '-',
      ratio: ofGoal(records.peakMiB, 600),
      goal: '<= 600 MiB',
    });
    rows.push({
      figure: `replica of ${RECORDS.toLocaleString()} records, open time`,
      ours: `${records.openSeconds.toFixed(1)} s`,
      peer: '-',
      ratio: ofGoal(records.openSeconds, 4),
      goal: '<= 4 s',
    });
  }
  const failed = (figure: string, goal: string): Row => ({ figure, ours: 'failed (below)', peer: '-', ratio: 'n/a', goal });
  if (only.has('bases') && !bases) rows.push(failed('merge-base store / folder', '<= 10%'));
  if (only.has('memory') && !memory) rows.push(failed(`RSS of an idle daemon, ${IDLE_FILES}-file folder`, '<= 60 MiB'));
  if (only.has('records') && !records) rows.push(failed(`replica of ${RECORDS.toLocaleString()} records`, '<= 600 MiB, <= 4 s'));
  console.log();
  console.log(tableText(rows));
  console.log();
  for (const [mode, f] of pairs)
    if (f.insertRelayBytes !== undefined)
      console.log(`insert, ${mode}: ${f.insertRelayBytes.toLocaleString()} bytes through the server's relay`);
  if (bases)
    console.log(
      `merge bases: tree ${bases.tree}; store = the sharing daemon's space state folder minus its journal and mailbox files, ` +
        `files' sizes (du -sb); ${mb(bases.store.allocated)} in disk blocks (du); bases/ alone ${mb(bases.basesDir)}`,
    );
  if (memory) console.log(`idle memory: ${memory.processes} process(es) in alice's daemon tree`);
  if (records) console.log(`records: ${records.line}`);
  for (const f of failures) console.log(`FAILED ${f}`);
  console.log(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
