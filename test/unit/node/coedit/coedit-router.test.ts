import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoeditRouter, MAX_OPEN_PER_DEVICE } from '../../../../src/node/coedit/coedit-router';
import { CoeditNoticeError, decodeNotice, encodeNotice, type CoeditNotice } from '../../../../src/node/coedit/coedit-notice';
import { ChannelKind } from '../../../../src/node/net/payload-kind';
import type { ActiveEditorView, CoeditPeerView } from '../../../../src/node/engine/engine-protocol';
import type { Role, UserInfo } from '../../../../src/sync/protocol/rendezvous';

const SPACE = 'a'.repeat(32);
const S1 = '1'.repeat(64);
const S2 = '2'.repeat(64);

const user = (id: string, devices: string[]): UserInfo => ({
  id,
  name: id,
  devices: devices.map((d) => ({ id: d, signPublic: '', agreePublic: '' })),
});

/**
 * Routers of several devices wired to each other through a queue the test flushes: a fake
 * account (who is a member with which role, who is online) stands in for the server's state.
 */
class World {
  readonly users = [user('alice', ['a1', 'a2']), user('bob', ['b1']), user('carol', ['c1'])];
  readonly roles = new Map<string, Role>([
    ['alice', 'owner'],
    ['bob', 'editor'],
  ]);
  readonly online = new Set(['a1', 'a2', 'b1', 'c1']);
  readonly routers = new Map<string, CoeditRouter>();
  readonly queue: { from: string; to: string; payload: Uint8Array }[] = [];
  readonly peers = new Map<string, (readonly CoeditPeerView[])[]>();
  readonly frames = new Map<string, { session: string; from: string; frame: number[] }[]>();
  readonly active = new Map<string, ActiveEditorView[]>();
  readonly logs = new Map<string, string[]>();

  device(me: string): CoeditRouter {
    const member = (space: string, device: string): { user: UserInfo; role: Role } | undefined => {
      if (space !== SPACE || device === me) return undefined;
      const u = this.users.find((x) => x.devices.some((d) => d.id === device));
      const role = u && this.roles.get(u.id);
      return u && role ? { user: u, role } : undefined;
    };
    for (const map of [this.peers, this.frames, this.active, this.logs] as Map<string, unknown[]>[]) map.set(me, []);
    const router = new CoeditRouter({
      directory: {
        member,
        reachable: (space) => [...this.online].filter((d) => d !== me && member(space, d)),
        joinedHere: (space) => space === SPACE,
      },
      send: (to, payload) => this.queue.push({ from: me, to, payload }),
      onPeers: (_space, _path, peers) => this.peers.get(me)!.push(peers),
      onFrame: (_space, _path, session, from, frame) => this.frames.get(me)!.push({ session, from, frame: [...frame] }),
      onActiveEditor: (editor) => this.active.get(me)!.push(editor),
      log: (m) => this.logs.get(me)!.push(m),
    });
    this.routers.set(me, router);
    return router;
  }

  /** Delivers everything queued, and what that causes; returns how many were delivered. */
  flush(): number {
    let n = 0;
    for (let m = this.queue.shift(); m; m = this.queue.shift(), n++) this.routers.get(m.to)?.receive(m.from, m.payload);
    return n;
  }

  lastPeers(me: string): string[] {
    const all = this.peers.get(me)!;
    return (all[all.length - 1] ?? []).map((p) => `${p.device}:${p.session.slice(0, 1)}${p.readOnly ? ':reader' : ''}`);
  }
}

test('co-editing router: announcements are answered once, frames follow sessions, closing and restarts remove peers', () => {
  const w = new World();
  const a = w.device('a1');
  const b = w.device('b1');
  const a2 = w.device('a2');
  a.open(SPACE, 'x.txt', S1, false);
  assert.equal(w.flush(), 2, "alice's announcement reaches bob and her other device, nobody has the file open to answer");
  assert.deepEqual(w.lastPeers('b1'), ['a1:1']);
  b.open(SPACE, 'x.txt', S1, false);
  assert.deepEqual(w.lastPeers('b1'), ['a1:1'], 'opening tells the editor who is there already');
  // bob announces to a1 and a2; a1 knew bob already from nothing: it does not answer (it was told by the open).
  w.flush();
  assert.deepEqual(w.lastPeers('a1'), ['b1:1']);
  assert.deepEqual(w.lastPeers('a2'), ['a1:1', 'b1:1'], "the user's own other device is a peer like any");
  // a2 opens with another seed: the frames of S1 do not go to it.
  a2.open(SPACE, 'x.txt', S2, false);
  w.flush();
  a.send(SPACE, 'x.txt', S1, [Uint8Array.of(1, 3, 7)]);
  w.flush();
  assert.deepEqual(w.frames.get('b1'), [{ session: S1, from: 'a1', frame: [1, 3, 7] }]);
  assert.deepEqual(w.frames.get('a2'), []);
  a.send(SPACE, 'x.txt', S1, [Uint8Array.of(1, 3, 8)], 'a2');
  w.flush();
  assert.deepEqual(w.frames.get('a2'), [{ session: S1, from: 'a1', frame: [1, 3, 8] }], 'to one device, whatever its session');
  assert.throws(() => a.send(SPACE, 'x.txt', S1, [Uint8Array.of(1, 3)], 'c1'), /not a member device/);

  b.close(SPACE, 'x.txt');
  w.flush();
  assert.deepEqual(w.lastPeers('a1'), ['a2:2']);
  // b1's channel to a1 started over (its host restarted): a1 forgets it and announces again.
  b.open(SPACE, 'x.txt', S1, true);
  w.flush();
  assert.deepEqual(w.lastPeers('a1'), ['a2:2', 'b1:1']);
  a.channelReady('b1');
  assert.deepEqual(w.lastPeers('a1'), ['a2:2']);
  w.flush();
  // b1 knew a1, so it does not answer: after a real restart b1's own open would announce it again.
  b.channelReady('a1');
  w.flush();
  assert.deepEqual(w.lastPeers('a1'), ['a2:2', 'b1:1']);
  assert.equal(
    w.peers
      .get('a1')!
      .at(-1)!
      .find((p) => p.device === 'b1')!.live,
    true,
  );
  a.deviceGone('a2');
  assert.deepEqual(w.lastPeers('a1'), ['b1:1']);
});

test('co-editing router: strangers, readers, bad notices and floods are dropped with one log line each', () => {
  const w = new World();
  const a = w.device('a1');
  const c = w.device('c1');
  w.device('b1');
  a.open(SPACE, 'x.txt', S1, false);
  w.flush();
  // carol is no member: her notices are dropped, logged once.
  for (let i = 0; i < 3; i++) a.receive('c1', encodeNotice({ t: 'open', space: SPACE, path: 'x.txt', session: S1, live: false }));
  a.receive('c1', encodeNotice({ t: 'frame', space: SPACE, path: 'x.txt', session: S1, frame: Uint8Array.of(1, 2, 2, 0) }));
  assert.deepEqual(w.lastPeers('a1'), []);
  assert.deepEqual(w.frames.get('a1'), []);
  assert.equal(w.logs.get('a1')!.filter((l) => /not a joined member device/.test(l)).length, 1);
  void c;

  // bob becomes a reader: his awareness and state vector pass, his update does not.
  w.roles.set('bob', 'reader');
  a.receive('b1', encodeNotice({ t: 'open', space: SPACE, path: 'x.txt', session: S1, live: false }));
  assert.deepEqual(w.lastPeers('a1'), ['b1:1:reader']);
  for (const frame of [Uint8Array.of(1, 2, 2, 0), Uint8Array.of(1, 3, 0), Uint8Array.of(1, 2, 0, 0), Uint8Array.of(1, 1, 2, 0)]) {
    a.receive('b1', encodeNotice({ t: 'frame', space: SPACE, path: 'x.txt', session: S1, frame }));
  }
  assert.deepEqual(
    w.frames.get('a1')!.map((f) => f.frame),
    [
      [1, 3, 0],
      [1, 2, 0, 0],
    ],
  );
  assert.equal(w.logs.get('a1')!.filter((l) => /who may only read/.test(l)).length, 1);

  // Garbage never throws.
  const garbage: Uint8Array[] = [
    Uint8Array.of(ChannelKind.Coedit),
    Uint8Array.of(ChannelKind.Coedit, 9),
    Uint8Array.of(ChannelKind.Coedit, 1, 0x7b),
    new Uint8Array([
      ChannelKind.Coedit,
      1,
      ...new TextEncoder().encode(JSON.stringify({ t: 'open', space: SPACE, path: '../up', session: S1, live: false })),
    ]),
    new Uint8Array([
      ChannelKind.Coedit,
      1,
      ...new TextEncoder().encode(JSON.stringify({ t: 'active', space: SPACE, path: 'x.txt', top: -1 })),
    ]),
    encodeNotice({ t: 'frame', space: SPACE, path: 'x.txt', session: S1, frame: Uint8Array.of(1, 3) }).subarray(0, 53),
  ];
  for (const g of garbage) assert.doesNotThrow(() => a.receive('b1', g));
  assert.ok(w.logs.get('a1')!.filter((l) => /dropped a notice/.test(l)).length >= garbage.length - 1);

  // A device cannot make the router keep more than MAX_OPEN_PER_DEVICE files of it.
  w.roles.set('bob', 'editor');
  for (let i = 0; i < MAX_OPEN_PER_DEVICE + 10; i++)
    a.receive('b1', encodeNotice({ t: 'open', space: SPACE, path: `f${i}.txt`, session: S1, live: false }));
  assert.equal(w.logs.get('a1')!.filter((l) => /more than 256 open files/.test(l)).length, 1);
  a.close(SPACE, 'x.txt');
  a.open(SPACE, `f${MAX_OPEN_PER_DEVICE + 5}.txt`, S1, false);
  assert.deepEqual(w.lastPeers('a1'), [], 'the files past the bound were not kept');
  // A member removed from the space leaves every list.
  a.open(SPACE, 'f0.txt', S1, false);
  assert.deepEqual(w.lastPeers('a1'), ['b1:1']);
  w.roles.delete('bob');
  a.membershipChanged();
  assert.deepEqual(w.lastPeers('a1'), []);
});

test("co-editing router: active editors of a user's devices, the latest wins, gone with the device", () => {
  const w = new World();
  const b = w.device('b1');
  const a1 = w.device('a1');
  const a2 = w.device('a2');
  a1.setActiveEditor(SPACE, 'one.txt', 4);
  w.flush();
  assert.equal(b.activeFile(SPACE, 'alice'), 'one.txt');
  assert.deepEqual(w.active.get('b1')!.at(-1), { device: 'a1', user: 'alice', name: 'alice', space: SPACE, path: 'one.txt', top: 4 });
  a2.setActiveEditor(SPACE, 'two.txt', undefined);
  w.flush();
  assert.equal(b.activeFile(SPACE, 'alice'), 'two.txt');
  a2.setActiveEditor(undefined, undefined, undefined);
  w.flush();
  assert.equal(b.activeFile(SPACE, 'alice'), 'one.txt', 'a2 left the space: a1 is where alice is');
  assert.equal(w.active.get('b1')!.at(-1)!.path, undefined);
  b.deviceGone('a1');
  assert.equal(b.activeFile(SPACE, 'alice'), undefined);
  assert.deepEqual(w.active.get('b1')!.at(-1), { device: 'a1', user: 'alice', name: 'alice', space: SPACE });
  // A device that comes online hears where this one is.
  a1.setActiveEditor(SPACE, 'one.txt', 9);
  w.queue.length = 0;
  a1.deviceOnline('b1');
  w.flush();
  assert.equal(b.activeFile(SPACE, 'alice'), 'one.txt');
  assert.throws(() => a1.setActiveEditor('b'.repeat(32), 'x', 0), /not joined/);
  assert.throws(() => a1.setActiveEditor(SPACE, 'a//b', 0), /empty segment/);
});

test('co-editing router: who follows whom travels with the active editor and ends with the device', () => {
  const w = new World();
  const b = w.device('b1');
  const a1 = w.device('a1');
  // Ids on the wire are hex: this stands for bob, whom alice follows.
  const BOB = 'b'.repeat(32);
  a1.setActiveEditor(SPACE, undefined, undefined, BOB);
  w.flush();
  assert.deepEqual(w.active.get('b1')!.at(-1), { device: 'a1', user: 'alice', name: 'alice', space: SPACE, following: BOB });
  a1.setActiveEditor(SPACE, 'one.txt', 3, BOB);
  w.flush();
  assert.deepEqual(w.active.get('b1')!.at(-1), {
    device: 'a1',
    user: 'alice',
    name: 'alice',
    space: SPACE,
    path: 'one.txt',
    top: 3,
    following: BOB,
  });
  a1.setActiveEditor(SPACE, 'one.txt', 3);
  w.flush();
  assert.equal(w.active.get('b1')!.at(-1)!.following, undefined, 'no longer following');
  // Following while in no file: the device going offline is news for the followed user too.
  a1.setActiveEditor(SPACE, undefined, undefined, BOB);
  w.flush();
  const before = w.active.get('b1')!.length;
  b.deviceGone('a1');
  assert.equal(w.active.get('b1')!.length, before + 1);
  assert.deepEqual(w.active.get('b1')!.at(-1), { device: 'a1', user: 'alice', name: 'alice', space: SPACE });
  assert.throws(() => a1.setActiveEditor(SPACE, 'x', 0, 'bob'), /following names a user/);
  assert.throws(() => a1.setActiveEditor(undefined, undefined, undefined, BOB), /following names a user/);
});

test('co-editing notices: each kind round-trips; headers and frames over their bounds are refused', () => {
  const notices: CoeditNotice[] = [
    { t: 'open', space: SPACE, path: 'dir/ü.txt', session: S1, live: true, reply: true },
    { t: 'open', space: SPACE, path: 'x', session: S2, live: false },
    { t: 'open', space: SPACE, path: 'x', session: S2, live: true, disk: S1 },
    { t: 'close', space: SPACE, path: 'x' },
    { t: 'active', space: SPACE, path: 'x', top: 12 },
    { t: 'active', space: SPACE },
    { t: 'active', space: SPACE, following: 'b'.repeat(32) },
    { t: 'active', space: SPACE, path: 'x', top: 1, following: 'b'.repeat(32) },
  ];
  for (const n of notices) assert.deepEqual(decodeNotice(encodeNotice(n)), n);
  const frame = decodeNotice(encodeNotice({ t: 'frame', space: SPACE, path: 'dir/ü.txt', session: S1, frame: Uint8Array.of(1, 2, 3) }));
  assert.deepEqual(
    { ...frame, frame: [...(frame as { frame: Uint8Array }).frame] },
    { t: 'frame', space: SPACE, path: 'dir/ü.txt', session: S1, frame: [1, 2, 3] },
  );
  assert.throws(() => encodeNotice({ t: 'close', space: SPACE, path: 'x'.repeat(9000) }), CoeditNoticeError);
  const long = new Uint8Array(2 + 9000).fill(0x20);
  long[0] = ChannelKind.Coedit;
  long[1] = 1;
  assert.throws(() => decodeNotice(long), /over 8192/);
  const badDisk = new TextEncoder().encode(JSON.stringify({ t: 'open', space: SPACE, path: 'x', session: S1, live: true, disk: 'nope' }));
  assert.throws(() => decodeNotice(Uint8Array.of(ChannelKind.Coedit, 1, ...badDisk)), /bad file hash/);
});
