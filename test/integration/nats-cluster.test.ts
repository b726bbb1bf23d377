import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { decodeEnvelope, encodeEnvelope, type BusMessage, type Envelope } from '../../src/server/cluster/bus-messages';
import type { ClusterReceiver, RelayOutcome, RemoteSession } from '../../src/server/cluster/cluster';
import { splitBytes } from '../../src/server/cluster/message-parts';
import { NatsCluster, type NatsClusterOptions } from '../../src/server/cluster/nats-cluster';
import type { Connection } from '../../src/server/connection';
import { NATS_URL } from './pg-database';

/**
 * One NatsCluster on the real NATS, and a "ghost" process played by hand on the same subjects:
 * what the cluster sends and how it takes what it is sent, byte for byte (docs/PROTOCOL.md R7).
 */

const HEARTBEAT_MS = 100;

function recorder(): { receiver: ClusterReceiver; calls: string[]; frames: Uint8Array[] } {
  const calls: string[] = [];
  const frames: Uint8Array[] = [];
  const mine: RemoteSession = { node: 'me', device: 'd-mine', user: 'u-mine', session: 's-mine', presence: 'online' };
  const receiver: ClusterReceiver = {
    localSessions: () => [mine],
    sessionUp: (s) => calls.push(`up ${s.node} ${s.device} ${s.session}`),
    sessionDown: (node, device, session) => calls.push(`down ${node} ${device} ${session}`),
    sessionPresence: (node, device, session, presence) => calls.push(`presence ${node} ${device} ${session} ${presence}`),
    nodeSessions: (node, sessions) => calls.push(`snapshot ${node} ${sessions.map((s) => s.device).join(',')}`),
    nodeGone: (node) => calls.push(`gone ${node}`),
    presence: (user, peers) => calls.push(`presencePush ${user} ${peers.join(',')}`),
    push: (users) => calls.push(`push ${users.join(',')}`),
    rights: (states) => calls.push(`rights ${states.length}`),
    kick: (device, session) => calls.push(`kick ${device} ${session}`),
    relay: async (device, frame) => {
      calls.push(`relay ${device} ${frame.length}`);
      frames.push(frame);
      return 'busy';
    },
    mailbox: (device) => calls.push(`mail ${device}`),
  };
  return { receiver, calls, frames };
}

/** This test's process, named `me`, on the cluster of `database`. */
function connectMe(database: string, options: Partial<NatsClusterOptions> = {}): Promise<NatsCluster> {
  return NatsCluster.connect({
    url: NATS_URL,
    database,
    nodeId: 'me',
    log: () => undefined,
    heartbeatMs: HEARTBEAT_MS,
    relayWindowBytes: 1 << 20,
    nodeWindowBytes: 16 * 1024 * 1024,
    relayAnswerTimeoutMs: 10_000,
    assemblyBytes: 64 << 20,
    ...options,
  });
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `waited ${ms} ms for ${what}`);
}

test('nats cluster: a new process is sent a snapshot and asked for one; gaps and lags ask again; silence is death', async () => {
  const database = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const prefix = `sf.${database}`;
  const ghost: NatsConnection = await connect({ servers: NATS_URL });
  const toGhost: Envelope[] = [];
  ghost.subscribe(`${prefix}.node.ghost`, { callback: (_err, msg) => toGhost.push(decodeEnvelope(msg.data)) });
  const all: Envelope[] = [];
  ghost.subscribe(`${prefix}.all`, { callback: (_err, msg) => all.push(decodeEnvelope(msg.data)) });
  await ghost.flush();
  const { receiver, calls, frames } = recorder();
  const cluster = await connectMe(database);
  const send = (message: BusMessage, subject = `${prefix}.all`, body?: Uint8Array): void =>
    ghost.publish(subject, encodeEnvelope('ghost', 'g1', message, body));
  const kinds = (): string[] => toGhost.map((e) => e.message.k);
  try {
    await cluster.start(receiver);
    await until('a beat from the cluster', () => all.some((e) => e.from === 'me' && e.message.k === 'beat'));
    send({ k: 'beat', seq: 0, every: HEARTBEAT_MS });
    await until(
      'a snapshot and a snapshot request for the ghost',
      () => kinds().includes('snapshot') && kinds().includes('snapshotRequest'),
    );
    const snapshot = toGhost.find((e) => e.message.k === 'snapshot')!.message as Extract<BusMessage, { k: 'snapshot' }>;
    assert.deepEqual(
      snapshot.sessions.map((s) => s.device),
      ['d-mine'],
    );
    send({ k: 'up', seq: 1, device: 'd1', user: 'u1', session: 's1', presence: 'online' });
    send({ k: 'up', seq: 1, device: 'd1', user: 'u1', session: 's1', presence: 'online' });
    await until('the up event', () => calls.includes('up ghost d1 s1'));
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    const asked = (): number => kinds().filter((k) => k === 'snapshotRequest').length;
    assert.equal(asked(), 1);
    send({ k: 'down', seq: 3, device: 'd1', session: 's1' });
    await until('a snapshot request for the gap', () => asked() === 2);
    assert.ok(calls.includes('down ghost d1 s1'), 'the event after a gap is applied too');
    assert.equal(calls.filter((c) => c.startsWith('up ')).length, 1, 'a repeated event is applied once');
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    send({ k: 'beat', seq: 5, every: HEARTBEAT_MS });
    await until('a snapshot request for the lag', () => asked() === 3);
    send(
      { k: 'snapshot', seq: 5, sessions: [{ node: 'ghost', device: 'd9', user: 'u9', session: 's9', presence: 'away' }] },
      `${prefix}.node.me`,
    );
    await until('the snapshot', () => calls.includes('snapshot ghost d9'));
    // A relay frame of 2.5 MiB comes in parts; the answer goes back to the ghost.
    const frame = new Uint8Array(crypto.randomBytes(2.5 * 1024 * 1024));
    const whole = encodeEnvelope('ghost', 'g1', { k: 'relays', frames: [[42, 'd-mine', frame.length]] }, frame);
    const pieces = splitBytes(whole, 1000 * 1024);
    pieces.forEach((piece, i) => send({ k: 'part', pid: 1, i, n: pieces.length }, `${prefix}.node.me`, piece));
    await until('the frame, whole', () => frames.length === 1);
    assert.ok(Buffer.from(frames[0]!).equals(frame));
    await until('the answer', () => kinds().includes('relayAnswers'));
    assert.deepEqual(toGhost.find((e) => e.message.k === 'relayAnswers')!.message, { k: 'relayAnswers', answers: [[42, 'busy']] });
    send({ k: 'kick', device: 'd-mine', session: 's-mine' }, `${prefix}.node.me`);
    send({ k: 'mail', device: 'd-mine' }, `${prefix}.node.me`);
    await until('the kick and the mail notice', () => calls.includes('kick d-mine s-mine') && calls.includes('mail d-mine'));
    // The ghost falls silent: after three beats it is dead.
    await until('the ghost declared dead', () => calls.includes('gone ghost'));
    assert.equal(cluster.figures().nodesAlive, 1);
    // A process that says goodbye is gone at once, and the cluster's own goodbye goes out on close.
    send({ k: 'beat', seq: 0, every: HEARTBEAT_MS }, undefined);
    await until('the ghost back', () => cluster.figures().nodesAlive === 2);
    send({ k: 'bye' });
    await until('the ghost gone again', () => calls.filter((c) => c === 'gone ghost').length === 2);
  } finally {
    await cluster.close();
    await until('the cluster says goodbye', () => all.some((e) => e.from === 'me' && e.message.k === 'bye'));
    await ghost.close();
  }
});

test('nats cluster: a process that was stalled itself does not take the silence for the others dying', async () => {
  const database = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const prefix = `sf.${database}`;
  const ghost: NatsConnection = await connect({ servers: NATS_URL });
  const { receiver, calls } = recorder();
  const cluster = await connectMe(database);
  const beat = (): void => ghost.publish(`${prefix}.all`, encodeEnvelope('ghost', 'g1', { k: 'beat', seq: 0, every: HEARTBEAT_MS }));
  const beating = setInterval(beat, HEARTBEAT_MS / 2);
  try {
    await cluster.start(receiver);
    await until('the ghost heard', () => cluster.figures().nodesAlive === 2);
    // The whole process (the ghost too) stalls for ten beats: nobody could say anything meanwhile.
    const end = Date.now() + 10 * HEARTBEAT_MS;
    while (Date.now() < end);
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    assert.deepEqual(
      calls.filter((c) => c.startsWith('gone')),
      [],
    );
    assert.equal(cluster.figures().nodesAlive, 2);
  } finally {
    clearInterval(beating);
    await cluster.close();
    await ghost.close();
  }
});

test('nats cluster: unanswered relay bytes hold the sender until an answer, a timeout or the target process going', async () => {
  const database = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const prefix = `sf.${database}`;
  const ghost: NatsConnection = await connect({ servers: NATS_URL });
  const relays: number[] = [];
  ghost.subscribe(`${prefix}.node.ghost`, {
    callback: (_err, msg) => {
      const { message } = decodeEnvelope(msg.data);
      if (message.k === 'relays') relays.push(...message.frames.map(([id]) => id));
    },
  });
  await ghost.flush();
  const { receiver } = recorder();
  const cluster = await connectMe(database, { relayWindowBytes: 100, relayAnswerTimeoutMs: 3 * HEARTBEAT_MS });
  const socket = { isPaused: false, readyState: 1, OPEN: 1, pause: () => undefined, resume: () => undefined };
  const sender = { socket } as unknown as Connection;
  const target: RemoteSession = { node: 'ghost', device: 'd-ghost', user: 'u', session: 's', presence: 'online' };
  const outcomes: string[] = [];
  const frame = new Uint8Array(80);
  const answer = (id: number, outcome: RelayOutcome): void =>
    ghost.publish(`${prefix}.node.me`, encodeEnvelope('ghost', 'g1', { k: 'relayAnswers', answers: [[id, outcome]] }));
  try {
    await cluster.start(receiver);
    ghost.publish(`${prefix}.all`, encodeEnvelope('ghost', 'g1', { k: 'beat', seq: 0, every: HEARTBEAT_MS }));
    await until('the ghost heard', () => cluster.figures().nodesAlive === 2);
    await cluster.relay(sender, target, frame, (o) => outcomes.push(`1 ${o}`));
    let second = false;
    const secondSent = cluster.relay(sender, target, frame, (o) => outcomes.push(`2 ${o}`)).then(() => (second = true));
    await until('the first frame at the ghost', () => relays.length === 1);
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS / 2));
    assert.equal(second, false, 'the window is full: the second frame waits');
    answer(relays[0]!, 'busy');
    await secondSent;
    assert.deepEqual(outcomes, ['1 busy']);
    // Nobody answers the second frame: after the timeout its bytes leave the window, and its
    // sender hears that it may be lost.
    await cluster.relay(sender, target, frame, (o) => outcomes.push(`3 ${o}`));
    assert.deepEqual(outcomes, ['1 busy', '2 unanswered']);
    // The ghost goes: what it owed is answered 'gone' at once.
    ghost.publish(`${prefix}.all`, encodeEnvelope('ghost', 'g1', { k: 'bye' }));
    await until('the third frame given up', () => outcomes.includes('3 gone'));
  } finally {
    await cluster.close();
    await ghost.close();
  }
});

test('nats cluster: a process is judged by its own heartbeat: a slower one is not taken for dead', async () => {
  const database = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const prefix = `sf.${database}`;
  const ghost: NatsConnection = await connect({ servers: NATS_URL });
  const { receiver, calls } = recorder();
  const cluster = await connectMe(database);
  const slow = 4 * HEARTBEAT_MS;
  const beat = (): void => ghost.publish(`${prefix}.all`, encodeEnvelope('ghost', 'g1', { k: 'beat', seq: 0, every: slow }));
  let beating: NodeJS.Timeout | undefined;
  try {
    await cluster.start(receiver);
    beat();
    beating = setInterval(beat, slow);
    await until('the ghost heard', () => cluster.figures().nodesAlive === 2);
    await new Promise((r) => setTimeout(r, 3 * slow));
    assert.deepEqual(
      calls.filter((c) => c.startsWith('gone')),
      [],
      'beating every 400 ms, the ghost lives, though this process beats every 100 ms',
    );
    clearInterval(beating);
    await until('the silent ghost declared dead', () => calls.includes('gone ghost'));
  } finally {
    clearInterval(beating);
    await cluster.close();
    await ghost.close();
  }
});

test('nats cluster: a frame for a device the directory does not know goes to every process, and is taken where it is signed in', async () => {
  const database = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  const prefix = `sf.${database}`;
  const ghost: NatsConnection = await connect({ servers: NATS_URL });
  const heard: Envelope[] = [];
  ghost.subscribe(`${prefix}.all`, { callback: (_err, msg) => heard.push(decodeEnvelope(msg.data)) });
  const answered: BusMessage[] = [];
  ghost.subscribe(`${prefix}.node.ghost`, { callback: (_err, msg) => answered.push(decodeEnvelope(msg.data).message) });
  await ghost.flush();
  const { receiver, calls, frames } = recorder();
  const cluster = await connectMe(database);
  try {
    await cluster.start(receiver);
    const frame = new Uint8Array(crypto.randomBytes(3000));
    cluster.relayAnywhere('d-somewhere', frame);
    await until('the frame on the broadcast subject', () => heard.some((e) => e.message.k === 'relayAny'));
    const sent = heard.find((e) => e.message.k === 'relayAny')!;
    assert.deepEqual(sent.message, { k: 'relayAny', device: 'd-somewhere' });
    assert.deepEqual(new Uint8Array(sent.body), frame);

    const incoming = new Uint8Array(crypto.randomBytes(2000));
    ghost.publish(`${prefix}.all`, encodeEnvelope('ghost', 'g1', { k: 'relayAny', device: 'd-mine' }, incoming));
    await until('the frame handed to this process', () => calls.includes('relay d-mine 2000'));
    assert.deepEqual(new Uint8Array(frames.at(-1)!), incoming);
    await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
    assert.equal(
      answered.some((m) => m.k === 'relayAnswers'),
      false,
      'a frame sent to every process is never answered',
    );
  } finally {
    await cluster.close();
    await ghost.close();
  }
});
