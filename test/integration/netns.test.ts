import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { sleep, waitFor } from './disk-cluster';
import { NetWorld, sameFile, writeRandom } from './net-cluster';
import { NetworkLab, requireNamespaceTools } from './network-namespaces';
import { peerPaths, type PeerPath } from './peer-paths';

/**
 * Direct links on a real routed network: alice and bob on one LAN segment, the server on another
 * (network-namespaces.ts). Bytes through the server are its relay counter, read over HTTP inside
 * its namespace.
 */

const MIB = 1024 * 1024;
const ROUTED = 'sharedfolders_routed_bytes_total';
/** The router's LAN ports send at most this: the cut below lands inside a transfer, not after it. */
const LAN_MBIT = 400;

/** What `who`'s status says of its path to device `peer`, or undefined while not connected. */
async function pathTo(world: NetWorld, who: string, peer: string): Promise<PeerPath | undefined> {
  return peerPaths(await world.status(who)).get(peer);
}

async function bothPaths(world: NetWorld, devices: { alice: string; bob: string }): Promise<string> {
  return `${await pathTo(world, 'alice', devices.bob)}/${await pathTo(world, 'bob', devices.alice)}`;
}

/** Bytes a process has read (files and sockets), from /proc: cheap enough to poll every few ms. */
function bytesRead(pid: number): number {
  return Number(/rchar: (\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

test('on one LAN alice and bob sync directly, fall back to the relay when the LAN path is cut, go direct again, and find each other by LAN broadcast', async () => {
  requireNamespaceTools();
  const lab = NetworkLab.create();
  const world = new NetWorld(0, lab.placement());
  try {
    lab.capLan(LAN_MBIT);
    await world.alicesFolderWithBob();
    const devices = { alice: world.deviceOf('alice'), bob: world.deviceOf('bob') };
    world.start('alice');
    const bob = world.start('bob');

    // (1) They find each other and connect directly. A status lists the peers it has a channel
    // with, and two replicas with nothing to exchange open none: a first file opens it.
    const hello = writeRandom(world, 'a', 'hello.bin', 1024);
    await waitFor('the first file on bob', () => sameFile(world, 'b', 'hello.bin', hello), 30_000);
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

    // (5) LAN discovery alone: each device now tells the other, through the server, an address
    // where nothing listens (10.231.9.9 has no route); only the UDP broadcast carries a working one.
    await world.stop('alice');
    await world.stop('bob');
    const nowhere = { SF_TEST_DIRECT_ADVERTISE: '10.231.9.9:9' };
    world.start('alice', [], nowhere);
    await waitFor('alice to accept direct links', () => /accepting direct links on/.test(world.log('alice')), 30_000);
    world.start('bob', [], nowhere);
    const again = writeRandom(world, 'a', 'again.bin', 1024);
    await waitFor('a file on bob after the restart', () => sameFile(world, 'b', 'again.bin', again), 30_000);
    await waitFor(
      'alice and bob to link directly at the addresses their LAN broadcasts gave',
      async () => (await bothPaths(world, devices)) === 'direct/direct',
      45_000,
    );
    before = await world.metric(ROUTED);
    const fourth = writeRandom(world, 'a', 'fourth.bin', 8 * MIB);
    await waitFor('the fourth file on bob, byte-identical', () => sameFile(world, 'b', 'fourth.bin', fourth), 60_000);
    relayed = (await world.metric(ROUTED)) - before;
    assert.ok(
      relayed < fourth.length / 100,
      `${relayed} bytes of a ${fourth.length}-byte file went through the server with LAN-found addresses`,
    );
  } finally {
    try {
      await world.close();
    } finally {
      lab.close();
    }
  }
});
