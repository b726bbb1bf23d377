import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { deviceIdOf, generateDeviceKeys, signWith, type DeviceKeys, type DevicePublicKeys } from '../../../../src/node/crypto/device-keys';
import {
  decodeAck,
  decodeHi,
  encodeAck,
  encodeFrame,
  encodeHi,
  FrameReader,
  LinkFrame,
  LinkProtocolError,
  linkTranscript,
  MAX_HANDSHAKE_FRAME,
} from '../../../../src/node/net/direct-link-codec';
import { DirectLink, type LinkTimings } from '../../../../src/node/net/direct-link';
import { decodeDirectAddresses, encodeDirectAddresses } from '../../../../src/node/net/direct-addresses';
import { parseAddress } from '../../../../src/node/net/direct-links';
import { TokenBucket } from '../../../../src/sync/util/token-bucket';

const FAST: LinkTimings = { handshakeMs: 500, pingMs: 100, silentMs: 400, ackEvery: 4, ackDelayMs: 10 };

interface Device {
  readonly keys: DeviceKeys;
  readonly id: string;
}

function device(): Device {
  const keys = generateDeviceKeys();
  return { keys, id: deviceIdOf(keys) };
}

const alice = device();
const bob = device();
const mallory = device();

// ---- codec --------------------------------------------------------------------------------

test('frames cut anywhere in the stream come out whole and in order', () => {
  const frames = [encodeFrame(LinkFrame.Payload, new Uint8Array([1, 2, 3])), encodeAck(7), encodeFrame(LinkFrame.Ping)];
  const stream = Uint8Array.from(frames.flatMap((f) => [...f]));
  for (let cut = 0; cut <= stream.length; cut++) {
    for (let cut2 = cut; cut2 <= stream.length; cut2++) {
      const reader = new FrameReader(() => 1000);
      const out = [stream.subarray(0, cut), stream.subarray(cut, cut2), stream.subarray(cut2)].flatMap((part) => reader.push(part));
      assert.deepEqual(
        out.map((f) => [f.type, [...f.body]]),
        [
          [LinkFrame.Payload, [1, 2, 3]],
          [LinkFrame.Ack, [0, 0, 0, 0, 0, 0, 0, 7]],
          [LinkFrame.Ping, []],
        ],
      );
      assert.equal(reader.pending, 0);
    }
  }
});

test('a truncated frame waits; an oversize or empty one is an error before its bytes are kept', () => {
  const reader = new FrameReader(() => MAX_HANDSHAKE_FRAME);
  assert.deepEqual(reader.push(encodeFrame(LinkFrame.Payload, new Uint8Array(10)).subarray(0, 9)), []);
  assert.equal(reader.pending, 9);
  const big = new Uint8Array(4);
  new DataView(big.buffer).setUint32(0, MAX_HANDSHAKE_FRAME + 1);
  assert.throws(() => new FrameReader(() => MAX_HANDSHAKE_FRAME).push(big), LinkProtocolError);
  assert.throws(() => new FrameReader(() => MAX_HANDSHAKE_FRAME).push(new Uint8Array(4)), /empty frame/);
});

test('hi and ack frames are checked exactly', () => {
  const nonce = new Uint8Array(32).fill(9);
  const hi = encodeHi(nonce, alice.id).subarray(5);
  assert.deepEqual(decodeHi(hi), { version: 1, nonce, device: alice.id });
  assert.throws(() => decodeHi(hi.subarray(0, 20)), /too short/);
  assert.throws(() => decodeHi(Uint8Array.from([2, ...hi.subarray(1)])), /version 2/);
  assert.throws(() => decodeHi(encodeHi(nonce, 'not-an-id').subarray(5)), /no device id/);
  assert.equal(decodeAck(encodeAck(123_456).subarray(5)), 123_456);
  assert.throws(() => decodeAck(new Uint8Array(7)), /8 bytes/);
  assert.throws(() => decodeAck(new Uint8Array(8).fill(255)), /out of range/);
});

test('the transcript binds signer, peer and both nonces, the signer first', () => {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const t = linkTranscript(alice.id, bob.id, a, b);
  assert.notDeepEqual(t, linkTranscript(bob.id, alice.id, b, a));
  assert.notDeepEqual(t, linkTranscript(alice.id, bob.id, b, a));
  assert.equal(new TextDecoder().decode(t.subarray(0, 13)), 'sf-direct-v1\n');
});

test('direct-link addresses: only a short list of ip:port strings', () => {
  const encoded = encodeDirectAddresses(['10.0.0.2:4000', '192.168.1.9:21030']);
  assert.equal(encoded[0], 5);
  assert.deepEqual(decodeDirectAddresses(encoded.subarray(1)), ['10.0.0.2:4000', '192.168.1.9:21030']);
  const bad = (json: string): void => assert.equal(decodeDirectAddresses(new TextEncoder().encode(json)), undefined, json);
  bad('{"addresses":["evil.example:80"]}');
  bad('{"addresses":"10.0.0.1:1"}');
  bad(`{"addresses":${JSON.stringify(Array.from({ length: 17 }, (_, i) => `10.0.0.${i}:1`))}}`);
  bad('not json');
  bad('null');
  assert.deepEqual(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  for (const text of ['127.0.0.1', 'localhost:80', '256.0.0.1:1', '1.2.3.4:65536', ':80', '1.2.3.4:-1'])
    assert.equal(parseAddress(text), undefined, text);
});

// ---- links over real loopback sockets ------------------------------------------------------

interface Side {
  link: DirectLink;
  up: Promise<void>;
  closed: Promise<{ unacked: Uint8Array[]; reason: string }>;
  received: Uint8Array[];
}

function side(
  socket: net.Socket,
  me: Device,
  known: readonly Device[],
  options: { expected?: string; accept?: (payload: Uint8Array) => boolean; up?: TokenBucket } = {},
): Side {
  let up!: () => void;
  let closed!: (v: { unacked: Uint8Array[]; reason: string }) => void;
  const s = {
    up: new Promise<void>((r) => (up = r)),
    closed: new Promise<{ unacked: Uint8Array[]; reason: string }>((r) => (closed = r)),
    received: [] as Uint8Array[],
  } as Side;
  const lookup = (id: string): DevicePublicKeys | undefined => known.find((d) => d.id === id)?.keys;
  s.link = new DirectLink({
    socket,
    localId: me.id,
    keys: me.keys,
    ...(options.expected ? { expected: options.expected } : {}),
    lookup,
    timings: FAST,
    ...(options.up ? { limits: () => ({ up: options.up, down: undefined }) } : {}),
    onUp: () => up(),
    onPayload: (_l, payload) => {
      s.received.push(payload.slice());
      return options.accept?.(payload) ?? true;
    },
    onClose: (_l, unacked, reason) => closed({ unacked, reason }),
  });
  return s;
}

/** A connected pair of loopback sockets: the dialer's and the acceptor's. */
async function socketPair(): Promise<{ dialed: net.Socket; accepted: net.Socket; server: net.Server }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const acceptedP = new Promise<net.Socket>((r) => server.once('connection', r));
  const dialed = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  return { dialed, accepted: await acceptedP, server };
}

test('two devices that know each other link up, carry payloads both ways, and acks release what was sent', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const a = side(dialed, alice, [bob], { expected: bob.id });
    const b = side(accepted, bob, [alice]);
    await Promise.all([a.up, b.up]);
    assert.equal(a.link.device, bob.id);
    assert.equal(b.link.device, alice.id);
    assert.equal(a.link.dialer, alice.id);
    assert.equal(b.link.dialer, alice.id);
    for (let i = 0; i < 10; i++) assert.ok(a.link.send(new Uint8Array([1, i])));
    assert.ok(b.link.send(new Uint8Array([1, 99])));
    const deadline = Date.now() + 5000;
    while ((b.received.length < 10 || a.received.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      b.received.map((p) => p[1]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    await new Promise((r) => setTimeout(r, 100)); // the delayed ack of the last frames
    a.link.close('test over');
    assert.deepEqual((await a.closed).unacked, [], 'everything was acknowledged');
  } finally {
    server.close();
  }
});

test('payloads the peer never acknowledged come back, in order, when the link closes', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const a = side(dialed, alice, [bob], { expected: bob.id });
    const b = side(accepted, bob, [alice]);
    await Promise.all([a.up, b.up]);
    // bob stops reading: nothing he would acknowledge arrives.
    accepted.pause();
    for (let i = 0; i < 6; i++) a.link.send(new Uint8Array([1, i]));
    // Both ends hear nothing for 400 ms: whichever gives up first closes the link for both.
    const { unacked, reason } = await a.closed;
    assert.match(reason, /^(the peer went silent|connection closed)$/);
    assert.deepEqual(
      unacked.map((p) => p[1]),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(a.link.send(new Uint8Array([1, 6])), false, 'a closed link takes nothing');
  } finally {
    server.close();
  }
});

test('the accepting side refuses a device it does not know, even one that signs correctly', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const m = side(dialed, mallory, [bob], { expected: bob.id });
    const b = side(accepted, bob, [alice]);
    assert.match((await b.closed).reason, /may not connect/);
    await m.closed;
  } finally {
    server.close();
  }
});

test('the dialing side refuses a device other than the one it dialed', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const a = side(dialed, alice, [bob, mallory], { expected: bob.id });
    side(accepted, mallory, [alice]);
    assert.match((await a.closed).reason, /dialed device .* but device .* answered/);
  } finally {
    server.close();
  }
});

test('a link to oneself is refused', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    side(dialed, alice, [alice]);
    const b = side(accepted, alice, [alice]);
    assert.match((await b.closed).reason, /itself/);
  } finally {
    server.close();
  }
});

/** A hand-made peer on `socket`: sends a hi as `claimed`, then a proof signed with `signer`'s key. */
async function forger(socket: net.Socket, claimed: string, signer: Device, victim: string): Promise<void> {
  const nonce = new Uint8Array(32).fill(3);
  const theirHi = await new Promise<Uint8Array>((resolve) => {
    const chunks: Uint8Array[] = [];
    socket.on('data', (d: Buffer) => {
      chunks.push(new Uint8Array(d));
      const all = Uint8Array.from(chunks.flatMap((c) => [...c]));
      if (all.length >= 4 + 1 + 33 + 32) resolve(all.subarray(5));
    });
  });
  socket.write(encodeHi(nonce, claimed));
  const theirNonce = decodeHi(theirHi.subarray(0, 1 + 32 + 32)).nonce;
  socket.write(encodeFrame(LinkFrame.Proof, signWith(signer.keys, linkTranscript(claimed, victim, nonce, theirNonce))));
  socket.write(encodeFrame(LinkFrame.Payload, new Uint8Array([1, 0])));
}

test("a proof not signed by the claimed device's key is refused before any payload", async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const b = side(accepted, bob, [alice]);
    void forger(dialed, alice.id, mallory, bob.id);
    assert.match((await b.closed).reason, /not signed by its key/);
    assert.deepEqual(b.received, []);
  } finally {
    dialed.destroy();
    server.close();
  }
});

test('a correct proof from the claimed device passes (the forger check above can fail)', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const b = side(accepted, bob, [alice]);
    void forger(dialed, alice.id, alice, bob.id);
    await b.up;
  } finally {
    dialed.destroy();
    server.close();
  }
});

test('a socket that never completes the handshake is closed once the handshake time is over', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const b = side(accepted, bob, [alice]);
    const began = Date.now();
    assert.equal((await b.closed).reason, 'handshake timed out');
    assert.ok(Date.now() - began >= FAST.handshakeMs - 50);
  } finally {
    dialed.destroy();
    server.close();
  }
});

test('a payload that fails to open closes the link, not the channel', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const a = side(dialed, alice, [bob], { expected: bob.id });
    const b = side(accepted, bob, [alice], { accept: (p) => p[1] !== 66 });
    await Promise.all([a.up, b.up]);
    a.link.send(new Uint8Array([1, 66]));
    assert.match((await b.closed).reason, /failed to open/);
  } finally {
    server.close();
  }
});

test('an ack of frames never sent is a protocol error', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    const b = side(accepted, bob, [alice]);
    void forger(dialed, alice.id, alice, bob.id);
    await b.up;
    dialed.write(encodeAck(5));
    assert.match((await b.closed).reason, /ack of 5 frames, 0 were sent/);
  } finally {
    dialed.destroy();
    server.close();
  }
});

test('payloads wait for the upload limit, which the link shares with the relay, and arrive in order', async () => {
  const { dialed, accepted, server } = await socketPair();
  try {
    // 100 KB/s with a 25 KB burst: ten 20 KB payloads cannot all be written in the first 50 ms.
    const limit = new TokenBucket(100_000, 25_000, Date.now());
    const a = side(dialed, alice, [bob], { expected: bob.id, up: limit });
    const b = side(accepted, bob, [alice]);
    await Promise.all([a.up, b.up]);
    for (let i = 0; i < 10; i++) assert.ok(a.link.send(new Uint8Array(20_000).fill(i)));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(b.received.length < 10, `${b.received.length} payloads passed a limit that allows 2`);
    const deadline = Date.now() + 10_000;
    while (b.received.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      b.received.map((p) => p[0]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    a.link.close('test over');
  } finally {
    server.close();
  }
});
