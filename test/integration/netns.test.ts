import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { sleep, waitFor } from './disk-cluster';
import { NetWorld, sameFile, writeRandom, type StatusJson } from './net-cluster';
import { NetworkLab, requireNamespaceTools } from './network-namespaces';

/**
 * Direct links on a real routed network: alice and bob on one LAN segment, the server on another
 * (network-namespaces.ts). Bytes through the server are its relay counter, read over HTTP inside
 * its namespace.
 */

const MIB = 1024 * 1024;
const ROUTED = 'sharedfolders_routed_bytes_total';
/** The router's LAN ports send at most this: the cut below lands inside a transfer, not after it. */
const LAN_MBIT = 400;

type Path = 'direct' | 'relay';

/**
 * The path a status reports to each connected peer device: every object in it naming a device
 * with a "path" of "direct" or "relay".
 */
function peerPaths(status: unknown): Map<string, Path> {
  const paths = new Map<string, Path>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if ((o['path'] === 'direct' || o['path'] === 'relay') && typeof o['device'] === 'string') paths.set(o['device'], o['path']);
      Object.values(o).forEach(walk);
    }
  };
  walk(status);
  return paths;
}

/** What `who`'s status says of its path to device `peer`, or undefined while not connected. */
async function pathTo(world: NetWorld, who: string, peer: string): Promise<Path | undefined> {
  const status: StatusJson = await world.status(who);
  return peerPaths(status).get(peer);
}

async function bothPaths(world: NetWorld, devices: { alice: string; bob: string }): Promise<string> {
  return `${await pathTo(world, 'alice', devices.bob)}/${await pathTo(world, 'bob', devices.alice)}`;
}

/** Bytes a process has read (files and sockets), from /proc: cheap enough to poll every few ms. */
function bytesRead(pid: number): number {
  return Number(/rchar: (\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

test('on one LAN alice and bob sync directly, fall back to the relay when the LAN path is cut, and go direct again', async () => {
  requireNamespaceTools();
  const lab = NetworkLab.create();
  const world = new NetWorld(0, lab.placement());
  try {
    lab.capLan(LAN_MBIT);
    await world.alicesFolderWithBob();
    const devices = { alice: world.deviceOf('alice'), bob: world.deviceOf('bob') };
    world.start('alice');
    const bob = world.start('bob');

    // (1) They find each other and connect directly.
    await waitFor(
      'alice and bob to report a direct path to each other',
      async () => (await bothPaths(world, devices)) === 'direct/direct',
      60_000,
    );

    // (2) A 100 MiB file moves with under 1% of its bytes through the server.
    let before = await world.metric(ROUTED);
    const big = writeRandom(world, 'a', 'big.bin', 100 * MIB);
    await waitFor('the 100 MiB file on bob, byte-identical', () => sameFile(world, 'b', 'big.bin', big), 120_000);
    let relayed = (await world.metric(ROUTED)) - before;
    assert.ok(relayed < big.length / 100, `${relayed} bytes of a ${big.length}-byte file went through the server`);

    // (3) The LAN path is cut a quarter into the next transfer: it finishes over the relay.
    const startRead = bytesRead(bob.pid!);
    const second = writeRandom(world, 'a', 'second.bin', 64 * MIB);
    const deadline = Date.now() + 60_000;
    while (bytesRead(bob.pid!) - startRead < second.length / 4) {
      if (Date.now() > deadline) throw new Error('bob read less than a quarter of the second file within 60 s');
      await sleep(5);
    }
    lab.cutLan();
    before = await world.metric(ROUTED);
    await waitFor('the second file on bob over the relay, byte-identical', () => sameFile(world, 'b', 'second.bin', second), 120_000);
    await waitFor('alice and bob to report the relay path', async () => (await bothPaths(world, devices)) === 'relay/relay', 60_000);
    relayed = (await world.metric(ROUTED)) - before;
    assert.ok(relayed > MIB, `only ${relayed} bytes went through the server after the LAN path was cut`);

    // (4) The LAN path comes back: the next transfer is direct again.
    lab.restoreLan();
    await waitFor('alice and bob to go direct again', async () => (await bothPaths(world, devices)) === 'direct/direct', 60_000);
    before = await world.metric(ROUTED);
    const third = writeRandom(world, 'a', 'third.bin', 32 * MIB);
    await waitFor('the third file on bob, byte-identical', () => sameFile(world, 'b', 'third.bin', third), 120_000);
    relayed = (await world.metric(ROUTED)) - before;
    assert.ok(
      relayed < third.length / 100,
      `${relayed} bytes of a ${third.length}-byte file went through the server after the LAN came back`,
    );
  } finally {
    try {
      await world.close();
    } finally {
      lab.close();
    }
  }
});
