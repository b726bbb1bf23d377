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
  const window = new RelayWindow(100, 1000);
  const { conn, socket } = sender();
  assert.equal(await window.reserve(conn, 'n2', 500), true, 'a frame larger than the window fits an empty one');
  let second = false;
  const waiting = window.reserve(conn, 'n2', 60).then((ok) => (second = ok));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false);
  assert.equal(socket.isPaused, true, 'the sender is read no more meanwhile');
  window.release(conn, 'n2', 500);
  await waiting;
  assert.equal(second, true);
  assert.equal(socket.isPaused, false);
  assert.equal(await window.reserve(conn, 'n2', 40), true, '60 + 40 fit 100');
  // A sender that closes while it waits gives up.
  const late = window.reserve(conn, 'n2', 10);
  socket.readyState = 3;
  window.wake();
  assert.equal(await late, false);
});

test('the relay window: many senders together wait once a process has its window of unanswered bytes', async () => {
  const window = new RelayWindow(100, 250);
  const senders = [sender(), sender(), sender(), sender()];
  for (const s of senders.slice(0, 3)) assert.equal(await window.reserve(s.conn, 'n2', 80), true);
  assert.equal(window.unansweredToward('n2'), 240);
  const fourth = senders[3]!;
  let through = false;
  const waiting = window.reserve(fourth.conn, 'n2', 80).then((ok) => (through = ok));
  await new Promise((r) => setImmediate(r));
  assert.equal(through, false, "a sender with nothing unanswered still waits for the process's window");
  assert.equal(fourth.socket.isPaused, true);
  assert.equal(await window.reserve(sender().conn, 'n3', 80), true, 'another process has a window of its own');
  window.release(senders[0]!.conn, 'n2', 80);
  await waiting;
  assert.equal(through, true);
  assert.equal(window.unansweredToward('n2'), 240);
});
