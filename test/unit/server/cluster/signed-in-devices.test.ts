import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionEvent } from '../../../../src/server/cluster/cluster';
import type { Connection } from '../../../../src/server/connection';
import { SignedInDevices } from '../../../../src/server/signed-in-devices';

function conn(device: string, user: string): Connection {
  return { device: { id: device }, user, presence: 'online' } as unknown as Connection;
}

test('local sessions are announced: up with a new session id each sign-in, presence, down', () => {
  const events: SessionEvent[] = [];
  const signedIn = new SignedInDevices('me', (e) => events.push(e));
  const first = conn('d1', 'u1');
  signedIn.add(first);
  signedIn.setPresence(first, 'away');
  assert.equal(signedIn.presenceOf('u1'), 'away');
  assert.ok(signedIn.remove(first));
  assert.equal(signedIn.remove(first), false, 'once');
  const second = conn('d1', 'u1');
  signedIn.add(second);
  assert.deepEqual(
    events.map((e) => e.k),
    ['up', 'presence', 'down', 'up'],
  );
  const [up1, , , up2] = events as Extract<SessionEvent, { k: 'up' }>[];
  assert.notEqual(up1!.session, up2!.session);
  assert.equal(signedIn.sessionOf(second), up2!.session);
  assert.deepEqual(signedIn.localSessions(), [{ node: 'me', device: 'd1', user: 'u1', session: up2!.session, presence: 'online' }]);
});

test("the directory: presence and devices of the whole cluster; an older session's events change nothing", () => {
  const signedIn = new SignedInDevices('me');
  signedIn.add(conn('d1', 'u1'));
  signedIn.addRemote({ node: 'a', device: 'd2', user: 'u1', session: 's1', presence: 'away' });
  assert.equal(signedIn.presenceOf('u1'), 'online');
  assert.deepEqual(signedIn.onlineDevices('u1').sort(), ['d1', 'd2']);
  assert.equal(signedIn.userOf('d2'), 'u1');
  // d3 moves from process a (session s2) to process b (s3); a's late events are about s2.
  signedIn.addRemote({ node: 'a', device: 'd3', user: 'u2', session: 's2', presence: 'online' });
  signedIn.addRemote({ node: 'b', device: 'd3', user: 'u2', session: 's3', presence: 'online' });
  assert.equal(signedIn.remote('d3')?.node, 'b', 'the newest session');
  assert.equal(signedIn.removeRemote('a', 'd3', 's2'), 'u2');
  assert.equal(signedIn.removeRemote('a', 'd3', 's3'), undefined, 'a process cannot end a session of another');
  assert.equal(signedIn.setRemotePresence('a', 'd3', 's2', 'away'), undefined);
  assert.equal(signedIn.presenceOf('u2'), 'online');
  assert.equal(signedIn.dropNode('a').size, 1, "u1's d2 goes with a");
  assert.deepEqual(signedIn.onlineDevices('u1'), ['d1']);
  assert.equal(signedIn.presenceOf('u2'), 'online', 'd3 lives on b');
  assert.equal(signedIn.remoteSessionCount, 1);
  assert.ok(signedIn.signedInAnywhere('u2'));
  // A snapshot of b replaces what was known of it; only users whose presence or devices changed come back.
  const changed = signedIn.replaceNode('b', [
    { node: 'b', device: 'd3', user: 'u2', session: 's3', presence: 'online' },
    { node: 'b', device: 'd4', user: 'u3', session: 's4', presence: 'away' },
  ]);
  assert.deepEqual([...changed], ['u3']);
  assert.equal(signedIn.presenceOf('u3'), 'away');
  assert.deepEqual([...signedIn.replaceNode('b', [])].sort(), ['u2', 'u3']);
  assert.equal(signedIn.presenceOf('u2'), 'offline');
  assert.equal(signedIn.remoteSessionCount, 0);
  assert.equal(signedIn.signedInAnywhere('u2'), false);
});
