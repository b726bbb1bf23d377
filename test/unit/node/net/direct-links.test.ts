import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { deviceIdOf, generateDeviceKeys, type DeviceKeys, type DevicePublicKeys } from '../../../../src/node/crypto/device-keys';
import { DirectLinks, DirectListenError, MAX_UNAUTHENTICATED } from '../../../../src/node/net/direct-links';

interface Node {
  readonly keys: DeviceKeys;
  readonly id: string;
  links: DirectLinks;
  readonly received: number[];
  readonly fallback: number[];
  readonly log: string[];
}

async function node(keys: DeviceKeys, known: () => readonly Node[]): Promise<Node> {
  const id = deviceIdOf(keys);
  const n = { keys, id, received: [], fallback: [], log: [] } as unknown as Node;
  n.links = await DirectLinks.start({
    keys,
    deviceId: id,
    lookup: (device): DevicePublicKeys | undefined => known().find((k) => k.id === device)?.keys,
    listen: { host: '127.0.0.1', port: 0 },
    onPayload: (_device, payload) => (n.received.push(payload[1]!), true),
    fallback: (_device, payloads) => n.fallback.push(...payloads.map((p) => p[1]!)),
    onPathChange: () => undefined,
    log: (m) => n.log.push(m),
  });
  return n;
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('both sides dial; both keep the one link the lower id dialed, and it carries payloads', async () => {
  const nodes: Node[] = [];
  const a = await node(generateDeviceKeys(), () => nodes);
  const b = await node(generateDeviceKeys(), () => nodes);
  nodes.push(a, b);
  try {
    a.links.learn(b.id, b.links.addresses());
    b.links.learn(a.id, a.links.addresses());
    await until('both links up', () => a.links.isDirect(b.id) && b.links.isDirect(a.id));
    // Let any second link finish its handshake and be settled.
    await new Promise((r) => setTimeout(r, 300));
    const lower = a.id < b.id ? a : b;
    const linkOf = (n: Node, other: Node): { dialer: string | undefined } =>
      (n.links as unknown as { peers: Map<string, { link: { dialer: string | undefined } }> }).peers.get(other.id)!.link;
    assert.equal(linkOf(a, b).dialer, lower.id);
    assert.equal(linkOf(b, a).dialer, lower.id);
    for (let i = 0; i < 5; i++) assert.ok(a.links.send(b.id, new Uint8Array([1, i])));
    await until('five payloads at b', () => b.received.length === 5);
    assert.deepEqual(b.received, [0, 1, 2, 3, 4]);
    assert.equal(a.links.addresses()[0], `127.0.0.1:${a.links.port}`);
  } finally {
    await a.links.close();
    await b.links.close();
  }
});

test('a device the account no longer allows loses its link and is not dialed again', async () => {
  const nodes: Node[] = [];
  const a = await node(generateDeviceKeys(), () => nodes);
  const b = await node(generateDeviceKeys(), () => nodes);
  nodes.push(a, b);
  try {
    a.links.learn(b.id, b.links.addresses());
    await until('the link up', () => a.links.isDirect(b.id) && b.links.isDirect(a.id));
    nodes.splice(nodes.indexOf(b), 1);
    a.links.recheck();
    assert.equal(a.links.isDirect(b.id), false);
    assert.equal(a.links.send(b.id, new Uint8Array([1, 0])), false, 'the relay takes it');
    a.links.learn(b.id, b.links.addresses());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.links.isDirect(b.id), false, 'not dialed again');
  } finally {
    await a.links.close();
    await b.links.close();
  }
});

test('at most 32 sockets wait to prove who they are; more are closed at once', async () => {
  const a = await node(generateDeviceKeys(), () => []);
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < MAX_UNAUTHENTICATED; i++) {
      const s = net.connect(a.links.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume();
      sockets.push(s);
      await new Promise<void>((r) => s.once('connect', () => r()));
    }
    await new Promise((r) => setTimeout(r, 100));
    const extra = net.connect(a.links.port, '127.0.0.1');
    extra.on('error', () => undefined);
    extra.resume();
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      extra.on('close', () => (clearTimeout(timer), resolve(true)));
    });
    assert.ok(closed, 'the 33rd socket was closed');
    assert.ok(
      sockets.every((s) => !s.destroyed),
      'the first 32 are still open (until their handshake time is over)',
    );
  } finally {
    for (const s of sockets) s.destroy();
    await a.links.close();
  }
});

test('a port in use is a DirectListenError that says so', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    await assert.rejects(
      DirectLinks.start({
        keys: generateDeviceKeys(),
        deviceId: 'x'.repeat(32),
        lookup: () => undefined,
        listen: { host: '127.0.0.1', port },
        onPayload: () => true,
        fallback: () => undefined,
        onPathChange: () => undefined,
        log: () => undefined,
      }),
      (err: unknown) => err instanceof DirectListenError && err.message === `cannot listen on 127.0.0.1:${port}: the port is in use`,
    );
  } finally {
    taken.close();
  }
});
