/**
 * Direct links between devices (docs/PROTOCOL.md R8), with a real server and real CLI daemons
 * on loopback. Each daemon listens on 127.0.0.1 and announces (SF_TEST_DIRECT_ADVERTISE, test
 * only) the address of a TCP forwarder in front of it, so cutting both forwarders cuts every
 * direct path between them as a network would, while the server stays reachable.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { generateDeviceKeys, deviceIdOf, signWith } from '../../src/node/crypto/device-keys';
import { encodeFrame, encodeHi, LinkFrame, linkTranscript } from '../../src/node/net/direct-link-codec';
import { sleep, waitFor } from './disk-cluster';
import { cli, freePort, NetWorld, sameFile, writeRandom, type StatusJson } from './net-cluster';
import { TcpForwarder } from './tcp-forwarder';

const MiB = 1024 * 1024;
const SYNC_MS = 60_000;
const ROUTED = 'sharedfolders_routed_bytes_total';

interface DirectDaemon {
  readonly port: number;
  readonly forwarder: TcpForwarder;
}

/** Starts `who`'s daemon listening on a loopback port and announcing a forwarder in front of it. */
async function startDirect(world: NetWorld, who: string): Promise<DirectDaemon> {
  const port = await freePort();
  const forwarder = await TcpForwarder.start('127.0.0.1', port);
  world.start(who, ['--listen', `127.0.0.1:${port}`], { SF_TEST_DIRECT_ADVERTISE: `127.0.0.1:${forwarder.port}` });
  return { port, forwarder };
}

function pathTo(status: StatusJson, name: string): string | undefined {
  return status.peers?.find((p) => p.name === name)?.path;
}

async function pathIs(world: NetWorld, who: string, other: string, path: 'direct' | 'relay', ms = SYNC_MS): Promise<void> {
  let last: string | undefined;
  await waitFor(
    `${who}'s path to ${other} to be ${path} (last seen: ${last ?? 'no channel'})`,
    async () => (last = pathTo(await world.status(who), other)) === path,
    ms,
  );
}

/** Resolves true when the server closes `socket`, false if it is still open after `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.on('error', () => undefined);
    // Read what it sends (its hi), or the end of the stream is never seen.
    socket.resume();
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function connectTo(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** The first frame the listener sends: its hi, with its nonce. */
function firstFrame(socket: net.Socket): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    const onData = (d: Buffer): void => {
      chunks.push(new Uint8Array(d));
      const got = Buffer.concat(chunks);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        socket.off('data', onData);
        resolve(new Uint8Array(got.subarray(4, 4 + got.readUInt32BE(0))));
      }
    };
    socket.on('data', onData);
  });
}

describe('direct links', { concurrency: false }, () => {
  it('carry a transfer with almost nothing through the server, fall back to the relay mid-transfer, and come back', async () => {
    const world = new NetWorld(0);
    const forwarders: TcpForwarder[] = [];
    try {
      await world.startServer();
      await world.user('alice');
      await world.user('bob');
      await world.contacts('alice', 'bob');
      const space = await world.share('alice', 'a', ['bob']);
      await world.join('bob', space, 'b');
      const alice = await startDirect(world, 'alice');
      const bob = await startDirect(world, 'bob');
      forwarders.push(alice.forwarder, bob.forwarder);

      // A first file opens the channel, which carries the addresses; the link follows.
      const first = writeRandom(world, 'a', 'first.bin', 1000);
      await waitFor('first.bin at bob', () => sameFile(world, 'b', 'first.bin', first), SYNC_MS);
      await pathIs(world, 'alice', 'bob', 'direct');
      await pathIs(world, 'bob', 'alice', 'direct');

      // (1) A multi-MiB file goes direct: under 1% of its bytes through the server.
      const routedBefore = await world.metric(ROUTED);
      const big = writeRandom(world, 'a', 'big.bin', 8 * MiB);
      await waitFor('big.bin at bob, byte-identical', () => sameFile(world, 'b', 'big.bin', big), SYNC_MS);
      const routed = (await world.metric(ROUTED)) - routedBefore;
      assert.ok(routed < 0.01 * big.length, `${routed} bytes of an ${big.length}-byte file went through the server`);
      const aliceStatus = await world.status('alice');
      assert.equal(pathTo(aliceStatus, 'bob'), 'direct');
      assert.ok(aliceStatus.direct!.bytesSentDirect > big.length, JSON.stringify(aliceStatus.direct));

      // (2) The direct path is cut while a file is on its way: it still arrives, byte-identical, over the relay.
      const forwardedBefore = alice.forwarder.forwarded + bob.forwarder.forwarded;
      const cutFile = writeRandom(world, 'a', 'cut.bin', 48 * MiB);
      // Watched every few milliseconds: on loopback the transfer is quick.
      const deadline = Date.now() + SYNC_MS;
      while (alice.forwarder.forwarded + bob.forwarder.forwarded - forwardedBefore < 12 * MiB) {
        assert.ok(Date.now() < deadline, 'a quarter of cut.bin never went through the direct path');
        await sleep(2);
      }
      assert.equal(sameFile(world, 'b', 'cut.bin', cutFile), false, 'cut.bin was still on its way when the path was cut');
      const routedAtCut = await world.metric(ROUTED);
      await Promise.all([alice.forwarder.cut(), bob.forwarder.cut()]);
      await waitFor('cut.bin at bob, byte-identical, after the cut', () => sameFile(world, 'b', 'cut.bin', cutFile), 2 * SYNC_MS);
      assert.ok((await world.metric(ROUTED)) - routedAtCut > 0, 'the rest came through the server');
      await pathIs(world, 'alice', 'bob', 'relay', 10_000);
      assert.match(world.log('alice') + world.log('bob'), /direct link to device [0-9a-f]+ is down/);
      assert.doesNotMatch(world.log('bob'), /failed authentication/, 'no frame was mangled');

      // (3) The path comes back: the next transfer is direct again.
      await Promise.all([alice.forwarder.restore(), bob.forwarder.restore()]);
      await pathIs(world, 'alice', 'bob', 'direct');
      await pathIs(world, 'bob', 'alice', 'direct');
      const back = writeRandom(world, 'b', 'back.bin', 4 * MiB);
      const routedBack = await world.metric(ROUTED);
      await waitFor('back.bin at alice, byte-identical', () => sameFile(world, 'a', 'back.bin', back), SYNC_MS);
      const routedAgain = (await world.metric(ROUTED)) - routedBack;
      assert.ok(routedAgain < 0.01 * back.length, `${routedAgain} bytes of ${back.length} went through the server once back direct`);
    } finally {
      for (const f of forwarders) await f.cut();
      await world.close();
    }
  });

  it('--no-direct keeps everything on the relay', async () => {
    const world = new NetWorld(0);
    try {
      await world.alicesFolderWithBob();
      world.start('alice', ['--no-direct']);
      world.start('bob');
      const first = writeRandom(world, 'a', 'first.bin', 1000);
      await waitFor('first.bin at bob', () => sameFile(world, 'b', 'first.bin', first), SYNC_MS);
      const routedBefore = await world.metric(ROUTED);
      const big = writeRandom(world, 'a', 'big.bin', 4 * MiB);
      await waitFor('big.bin at bob', () => sameFile(world, 'b', 'big.bin', big), SYNC_MS);
      assert.ok((await world.metric(ROUTED)) - routedBefore > big.length, 'the file went through the server');
      const alice = await world.status('alice');
      assert.equal(pathTo(alice, 'bob'), 'relay');
      assert.deepEqual(alice.direct, { enabled: false, listening: [], bytesSentDirect: 0, bytesSentRelay: alice.direct!.bytesSentRelay });
      assert.equal(pathTo(await world.status('bob'), 'alice'), 'relay');
      assert.doesNotMatch(world.log('alice'), /direct link/);
    } finally {
      await world.close();
    }
  });

  it('refuses hostile TCP clients at the listen port and keeps syncing', async () => {
    const world = new NetWorld(0);
    try {
      await world.alicesFolderWithBob();
      const port = await freePort();
      world.start('alice', ['--listen', `127.0.0.1:${port}`]);
      world.start('bob');
      const first = writeRandom(world, 'a', 'first.bin', 1000);
      await waitFor('first.bin at bob', () => sameFile(world, 'b', 'first.bin', first), SYNC_MS);
      await pathIs(world, 'alice', 'bob', 'direct');
      const aliceId = world.deviceOf('alice');
      const bobId = world.deviceOf('bob');

      // Garbage.
      let socket = await connectTo(port);
      socket.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      assert.ok(await closedWithin(socket, 10_000), 'garbage is refused');

      // A frame far over the handshake's size.
      socket = await connectTo(port);
      socket.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1]));
      assert.ok(await closedWithin(socket, 10_000), 'an oversize frame is refused');

      // A stranger with real keys, signing correctly: not a device alice may connect to.
      const stranger = generateDeviceKeys();
      const strangerId = deviceIdOf(stranger);
      socket = await connectTo(port);
      const hi = firstFrame(socket);
      const nonce = new Uint8Array(32).fill(7);
      socket.write(encodeHi(nonce, strangerId));
      const aliceNonce = (await hi).subarray(2, 34);
      socket.write(encodeFrame(LinkFrame.Proof, signWith(stranger, linkTranscript(strangerId, aliceId, nonce, aliceNonce))));
      assert.ok(await closedWithin(socket, 10_000), 'a stranger is refused');

      // Claiming to be bob, signing with other keys.
      socket = await connectTo(port);
      const hi2 = firstFrame(socket);
      socket.write(encodeHi(nonce, bobId));
      const aliceNonce2 = (await hi2).subarray(2, 34);
      socket.write(encodeFrame(LinkFrame.Proof, signWith(stranger, linkTranscript(bobId, aliceId, nonce, aliceNonce2))));
      socket.write(encodeFrame(LinkFrame.Payload, new Uint8Array([1, 2, 3])));
      assert.ok(await closedWithin(socket, 10_000), 'a wrong signature is refused');

      // Alice's own id: a link to herself.
      socket = await connectTo(port);
      socket.write(encodeHi(nonce, aliceId));
      assert.ok(await closedWithin(socket, 10_000), 'a link to itself is refused');

      // Says nothing at all: closed once the handshake time is over.
      socket = await connectTo(port);
      assert.ok(await closedWithin(socket, 15_000), 'a silent client is dropped');

      // Alice still syncs, still directly.
      const after = writeRandom(world, 'a', 'after.bin', 2 * MiB);
      await waitFor('after.bin at bob', () => sameFile(world, 'b', 'after.bin', after), SYNC_MS);
      assert.equal(pathTo(await world.status('alice'), 'bob'), 'direct');
      assert.equal(world.daemons.get('alice')!.exitCode, null, "alice's daemon runs");
    } finally {
      await world.close();
    }
  });

  it('says clearly when --listen is bad or its port is in use', async () => {
    const world = new NetWorld(0);
    try {
      await world.startServer();
      await world.user('alice');
      const bad = await cli(['run', '--home', world.home('alice'), '--listen', 'nowhere']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^shared-folders: --listen needs HOST:PORT/);
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        const busy = await cli(['run', '--home', world.home('alice'), '--listen', `127.0.0.1:${port}`]);
        assert.equal(busy.code, 2, busy.stderr);
        assert.equal(busy.stderr, `shared-folders: cannot listen on 127.0.0.1:${port}: the port is in use\n`);
      } finally {
        taken.close();
      }
    } finally {
      await world.close();
    }
  });
});
