import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayWindow } from '../../../../src/server/cluster/relay-window';
import type { Connection } from '../../../../src/server/connection';

/** A sender whose socket only records pauses. */
function sender(): { conn: Connection; socket: { isPaused: boolean; readyState: number; OPEN: number } } {
  const socket = {
    isPaused: false,
    readyState: 1,
    OPEN: 1,
    pause(): void {
      socket.isPaused = true;
    },
    resume(): void {
      socket.isPaused = false;
    },
  };
  return { conn: { socket } as unknown as Connection, socket };
}

test('the relay window: one frame always fits; a full window pauses the sender until answers free it', async () => {
  const window = new RelayWindow(100);
  const { conn, socket } = sender();
  assert.equal(await window.reserve(conn, 500), true, 'a frame larger than the window fits an empty one');
  let second = false;
  const waiting = window.reserve(conn, 60).then((ok) => (second = ok));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false);
  assert.equal(socket.isPaused, true, 'the sender is read no more meanwhile');
  window.release(conn, 500);
  await waiting;
  assert.equal(second, true);
  assert.equal(socket.isPaused, false);
  assert.equal(await window.reserve(conn, 40), true, '60 + 40 fit 100');
  // A sender that closes while it waits gives up.
  const late = window.reserve(conn, 10);
  socket.readyState = 3;
  window.wake(conn);
  assert.equal(await late, false);
});
