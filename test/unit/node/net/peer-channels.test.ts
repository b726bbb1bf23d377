import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceIdOf, generateDeviceKeys, type DeviceKeys } from '../../../../src/node/crypto/device-keys';
import { PeerChannels } from '../../../../src/node/net/peer-channels';

interface Frame {
  readonly from: string;
  readonly to: string;
  readonly payload: Uint8Array;
}

/** Two devices over an in-memory relay that delivers frames only when asked. */
function link(): { a: Endpoint; b: Endpoint; wire: Frame[]; deliver: (limit?: number) => number } {
  const wire: Frame[] = [];
  const a = endpoint('a', generateDeviceKeys(), wire);
  const b = endpoint('b', generateDeviceKeys(), wire);
  a.peer = b;
  b.peer = a;
  const byId = new Map([
    [a.id, a],
    [b.id, b],
  ]);
  const deliver = (limit = 1000): number => {
    let n = 0;
    while (wire.length > 0 && n < limit) {
      const f = wire.shift()!;
      byId.get(f.to)!.channels.onRelay(f.from, f.payload);
      n++;
    }
    return n;
  };
  return { a, b, wire, deliver };
}

interface Endpoint {
  readonly id: string;
  readonly keys: DeviceKeys;
  channels: PeerChannels;
  readonly received: string[];
  peer?: Endpoint;
  restart(): void;
}

function endpoint(_name: string, keys: DeviceKeys, wire: Frame[]): Endpoint {
  const id = deviceIdOf(keys);
  const e: Endpoint = {
    id,
    keys,
    received: [],
    channels: undefined as unknown as PeerChannels,
    restart() {
      e.channels = make();
    },
  };
  const make = (): PeerChannels =>
    new PeerChannels({
      keys,
      deviceId: id,
      lookup: (device) => (device === e.peer?.id ? e.peer.keys : undefined),
      relay: (device, payload) => {
        wire.push({ from: id, to: device, payload: payload.slice() });
        return true;
      },
      onMessage: (_device, plaintext) => e.received.push(new TextDecoder().decode(plaintext)),
    });
  e.channels = make();
  return e;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

test('messages sent before the handshake completes are delivered once it does, both ways', () => {
  const { a, b, deliver } = link();
  a.channels.send(b.id, text('one'));
  a.channels.send(b.id, text('two'));
  b.channels.send(a.id, text('three'));
  deliver();
  assert.deepEqual(b.received, ['one', 'two']);
  assert.deepEqual(a.received, ['three']);
  assert.ok(a.channels.isReady(b.id) && b.channels.isReady(a.id));
});

test('a restarted device gets a fresh channel and traffic resumes', () => {
  const { a, b, deliver } = link();
  a.channels.send(b.id, text('before'));
  deliver();
  b.restart();
  b.channels.send(a.id, text('after restart'));
  deliver();
  a.channels.send(b.id, text('reply'));
  deliver();
  assert.deepEqual(a.received, ['after restart']);
  assert.deepEqual(b.received, ['before', 'reply']);
});

test('a duplicated or replayed hello settles in a bounded number of frames and the channel works after', () => {
  const { a, b, wire, deliver } = link();
  a.channels.send(b.id, text('x'));
  const firstHello = wire[0]!;
  deliver();
  for (const replay of [firstHello, firstHello]) {
    wire.push(replay);
    assert.ok(deliver(200) < 200, 'hellos stopped bouncing');
    assert.equal(wire.length, 0);
  }
  // Keys may be out of step after a replay: a few failed frames start the channel over.
  for (let i = 0; i < 5; i++) {
    a.channels.send(b.id, text(`after-${i}`));
    b.channels.send(a.id, text(`back-${i}`));
    deliver();
  }
  assert.ok(b.received.includes('after-4'), JSON.stringify(b.received));
  assert.ok(a.received.includes('back-4'), JSON.stringify(a.received));
});

test('a device the directory does not know is refused', () => {
  const { a, deliver } = link();
  const stranger = deviceIdOf(generateDeviceKeys());
  assert.equal(a.channels.send(stranger, text('hi')), false);
  assert.equal(deliver(), 0);
});

test('a hello lost on the way (the peer was offline) does not leave the channel half open', () => {
  const { a, b, wire, deliver } = link();
  a.channels.send(b.id, text('queued while b was away'));
  wire.length = 0; // the server dropped a's hello: b was not signed in
  b.channels.send(a.id, text('b is back'));
  deliver();
  assert.ok(a.channels.isReady(b.id) && b.channels.isReady(a.id));
  assert.deepEqual(a.received, ['b is back']);
  assert.deepEqual(b.received, ['queued while b was away']);
});
