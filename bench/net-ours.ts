import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import { cli, NetWorld } from '../test/integration/net-cluster';
import { peerPaths } from '../test/integration/peer-paths';
import { generate, insertByte, MIB, propagation, rnd, treeBytes } from './net-data';

/**
 * Two of our daemons (alice and bob, a server between them on loopback) for bench:net: first
 * sync, save-to-disk latency and the bytes of a 1-byte insert, over a direct link or the relay.
 */

export type LinkMode = 'direct' | 'relay';

export interface PairFigures {
  /** The path alice's status reported to bob after the first sync ("none": not connected). */
  path: string;
  syncMs?: number;
  bytes?: number;
  latencies?: number[];
  /** What crossed for the insert: the link's TCP bytes both ways when direct, the server's relay bytes when relayed. */
  insertBytes?: number;
  /** The server's relay bytes during the insert (for a direct link, what still went through it). */
  insertRelayBytes?: number;
}

export interface PairPlan {
  readonly files: number;
  readonly samples: number;
  readonly firstSync: boolean;
  readonly latency: boolean;
  readonly insert: boolean;
}

/** Whether this build's `run` has direct links (and so --no-direct). */
export async function hasDirectLinks(): Promise<boolean> {
  const help = await cli(['run', '--help']);
  return /--no-direct/.test(help.stdout + help.stderr);
}

/**
 * TCP payload bytes (sent + received, from the kernel's tcp_info via `ss`) of each connection
 * of process `pid`, by its two endpoints.
 */
export function tcpBytesOf(pid: number): Map<string, number> {
  const out = execFileSync('ss', ['-tinpH'], { timeout: 10_000 }).toString();
  const byConnection = new Map<string, number>();
  // One socket per block: its first line starts at column 0, its tcp_info follows indented.
  for (const block of out.split(/\n(?=\S)/)) {
    if (!block.includes(`pid=${pid},`)) continue;
    const words = block.trim().split(/\s+/);
    const sent = Number(/bytes_sent:(\d+)/.exec(block)?.[1] ?? 0);
    const received = Number(/bytes_received:(\d+)/.exec(block)?.[1] ?? 0);
    byConnection.set(`${words[3]} ${words[4]}`, sent + received);
  }
  return byConnection;
}

/** Bytes over `pid`'s connections other than those to `serverPort`, between two readings of tcpBytesOf. */
function linkBytesBetween(before: Map<string, number>, after: Map<string, number>, serverPort: number): number {
  let total = 0;
  for (const [connection, bytes] of after) {
    if (connection.split(' ').some((end) => end.endsWith(`:${serverPort}`))) continue;
    total += bytes - (before.get(connection) ?? 0);
  }
  return total;
}

export async function ourPair(mode: LinkMode, plan: PairPlan): Promise<PairFigures> {
  const world = new NetWorld();
  const flags = mode === 'relay' && (await hasDirectLinks()) ? ['--no-direct'] : [];
  try {
    await world.alicesFolderWithBob();
    const figures: PairFigures = { path: 'none' };
    const files = plan.firstSync ? plan.files : 1;
    const bytes = generate(world.folder('a'), files);
    const alice = world.start('alice', flags);
    await waitFor('alice to index the folder', () => /full scan done/.test(world.log('alice')), 600_000);
    const started = Date.now();
    world.start('bob', flags);
    await waitFor(
      'bob to have every file',
      () => {
        const t = treeBytes(world.folder('b'));
        return t.files === files && t.bytes === bytes;
      },
      1_800_000,
    );
    if (plan.firstSync) {
      figures.syncMs = Date.now() - started;
      figures.bytes = bytes;
    }
    const bobDevice = world.deviceOf('bob');
    // A direct link may come up just after the first files: give it a moment before the rest.
    await waitFor('alice to report a path to bob', async () => peerPaths(await world.status('alice')).has(bobDevice), 20_000).catch(
      () => undefined,
    );
    figures.path = peerPaths(await world.status('alice')).get(bobDevice) ?? 'none';

    if (plan.latency) figures.latencies = await propagation(world.folder('a'), world.folder('b'), plan.samples);

    if (plan.insert) {
      const big = nodePath.join(world.folder('a'), 'big.bin');
      const data = rnd(100 * MIB);
      fs.writeFileSync(big, data);
      await waitFor(
        'the 100 MiB file on bob',
        () => fs.statSync(nodePath.join(world.folder('b'), 'big.bin'), { throwIfNoEntry: false })?.size === data.length,
        600_000,
      );
      await sleep(1500);
      const relayBefore = await world.metric('sharedfolders_routed_bytes_total');
      const linkBefore = tcpBytesOf(alice.pid!);
      const inserted = insertByte(data);
      fs.writeFileSync(big, inserted);
      await waitFor(
        'the insert on bob',
        () => fs.statSync(nodePath.join(world.folder('b'), 'big.bin'), { throwIfNoEntry: false })?.size === inserted.length,
        120_000,
      );
      await sleep(2000);
      figures.insertRelayBytes = (await world.metric('sharedfolders_routed_bytes_total')) - relayBefore;
      figures.insertBytes =
        figures.path === 'direct' ? linkBytesBetween(linkBefore, tcpBytesOf(alice.pid!), world.port) : figures.insertRelayBytes;
    }
    return figures;
  } finally {
    await world.close();
  }
}
