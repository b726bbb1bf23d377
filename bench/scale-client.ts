/**
 * One client process of bench/scale.ts: holds thousands of device sessions, each signed in with
 * its own device key by the project's RendezvousClient (the same code a device runs), and runs
 * the phases the parent asks for over IPC (bench/scale-messages.ts). File descriptors are per
 * process, so the parent spreads the connections over several of these.
 */
import * as crypto from 'node:crypto';
import { fingerprintOf, generateDeviceKeys, type DeviceKeys } from '../src/node/crypto/device-keys';
import { RendezvousClient } from '../src/node/net/rendezvous-client';
import type { AccountState, Presence } from '../src/sync/protocol/rendezvous';
import { WINDOW, type ClientCommand, type ClientReply } from './scale-messages';

interface Pair {
  readonly aKeys: DeviceKeys;
  readonly bKeys: DeviceKeys;
  readonly aUrl: string;
  readonly bUrl: string;
  readonly a: RendezvousClient;
  b: RendezvousClient;
  aUser: string;
  bUser: string;
  /** The latest presence of b's user that a was told of. */
  aSees: Presence | undefined;
}

const pairs: Pair[] = [];
/** Sessions that the server closed while they should have been held. */
let unexpectedDisconnects = 0;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` on every item, at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Resolves once `check` holds, or false after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * A device's session. The handshake may take a minute, not the client's usual 10 s: a sign-in
 * storm on a machine whose 2 cores also run the clients queues handshakes, and a real device
 * would simply retry; the figures count how long they took.
 */
function session(url: string, keys: DeviceKeys, join?: { name: string }): RendezvousClient {
  const client = new RendezvousClient({ url, keys, mode: 'session', handshakeTimeoutMs: 60_000, ...(join ? { join } : {}) });
  client.on('disconnected', () => {
    if (!closing.has(client)) unexpectedDisconnects++;
  });
  return client;
}

/** Sessions this process closes on purpose, whose disconnection is expected. */
const closing = new WeakSet<RendezvousClient>();

function watchPresence(pair: Pair): void {
  pair.a.on('presence', (user, presence) => {
    if (user === pair.bUser) pair.aSees = presence;
  });
}

async function makePair(urls: readonly string[], index: number): Promise<void> {
  const aUrl = urls[index % urls.length]!;
  const bUrl = urls[(index + 1) % urls.length]!;
  const aKeys = generateDeviceKeys();
  const a = session(aUrl, aKeys, { name: `a${index}` });
  const aState = await a.connect();
  const token = String((await a.request({ t: 'createInvite' }))['token']);
  const bKeys = generateDeviceKeys();
  const b = session(bUrl, bKeys, { name: `b${index}` });
  const bState = await b.connect();
  const pair: Pair = { aKeys, bKeys, aUrl, bUrl, a, b, aUser: aState.user.id, bUser: bState.user.id, aSees: undefined };
  watchPresence(pair);
  await b.request({ t: 'acceptInvite', token, fingerprint: fingerprintOf(aKeys) });
  pairs.push(pair);
}

async function setup(urls: readonly string[], first: number, count: number): Promise<ClientReply> {
  const started = performance.now();
  await pool(
    Array.from({ length: count }, (_, i) => first + i),
    WINDOW,
    (i) => makePair(urls, i),
  );
  return { t: 'setup', pairs: pairs.length, ms: performance.now() - started };
}

/** Whether `state` shows the contact `user` online with `device` among the devices signed in. */
function seesOnline(state: AccountState, user: string, device: string): boolean {
  return state.contacts.some((c) => c.id === user && c.presence === 'online') && state.online.includes(device);
}

/** Asks the server, from both ends of evenly spread pairs, whether each end sees the other online. */
async function verify(sample: number): Promise<ClientReply> {
  const step = Math.max(1, Math.floor(pairs.length / sample));
  const chosen = pairs.filter((_, i) => i % step === 0).slice(0, sample);
  let online = 0;
  await pool(chosen, WINDOW, async (p) => {
    const fromA = (await p.a.request({ t: 'state' }))['state'] as AccountState;
    const fromB = (await p.b.request({ t: 'state' }))['state'] as AccountState;
    if (seesOnline(fromA, p.bUser, p.b.device.id) && seesOnline(fromB, p.aUser, p.a.device.id)) online++;
  });
  return { t: 'verify', checked: chosen.length, online, disconnects: unexpectedDisconnects };
}

/** The pairs whose b is signed out and in again, as after a restart. */
let cycled: Pair[] = [];

/** b signs out, and its contact sees it go. */
async function signOut(count: number): Promise<ClientReply> {
  cycled = pairs.slice(0, count);
  await Promise.all(
    cycled.map((p) => {
      closing.add(p.b);
      return p.b.close();
    }),
  );
  await until(() => cycled.every((p) => p.aSees === 'offline'), 30_000);
  const offline = cycled.filter((p) => p.aSees === 'offline').length;
  // From here on only a presence push after the sign-in makes it 'online'.
  for (const p of cycled) p.aSees = 'offline';
  return { t: 'signout', offline };
}

/** Existing devices signing in again with their keys. */
async function signIn(): Promise<ClientReply> {
  let signedIn = 0;
  let failed = '';
  await pool(cycled, WINDOW, async (p) => {
    p.b = session(p.bUrl, p.bKeys);
    try {
      await p.b.connect();
      signedIn++;
    } catch (err) {
      failed = (err as Error).message;
    }
  });
  return { t: 'signin', signedIn, failed };
}

async function presence(): Promise<ClientReply> {
  const back = cycled.filter((p) => p.b.connected);
  await until(() => back.every((p) => p.aSees === 'online'), 30_000);
  return { t: 'presence', seen: back.filter((p) => p.aSees === 'online').length };
}

/** Keeps at most this much queued in a sender's socket: the bench measures the servers, not a client's buffer. */
const SEND_WINDOW = 256 * 1024;

async function relay(count: number, seconds: number, bytes: number): Promise<ClientReply> {
  const chosen = pairs.slice(0, count);
  const payload = new Uint8Array(crypto.randomBytes(bytes));
  let received = 0;
  let lastAt = performance.now();
  let busy = 0;
  const stops = chosen.flatMap((p) => [
    p.b.on('relay', () => {
      received++;
      lastAt = performance.now();
    }),
    p.a.on('problem', (code) => void (code === 'busy' && busy++)),
  ]);
  const started = performance.now();
  const end = started + seconds * 1000;
  let sent = 0;
  await Promise.all(
    chosen.map(async (p) => {
      const target = p.b.device.id;
      while (performance.now() < end) {
        if (p.a.buffered > SEND_WINDOW) await sleep(1);
        else {
          for (let i = 0; i < 64; i++) if (p.a.relay(target, payload)) sent++;
          // Lets the other senders and the receivers run.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }),
  );
  // Frames still in flight arrive; one lost for good leaves `received` short, and that is reported.
  let previous = -1;
  while (received < sent && received !== previous) {
    previous = received;
    await sleep(2000);
  }
  // A frame whose answer never comes between processes is reported to its sender only after the
  // relay answer timeout (R7: twice the relay wait plus 10 s): wait that long for the reports.
  const reportsBy = performance.now() + 25_000;
  while (received + busy < sent && performance.now() < reportsBy) await sleep(500);
  for (const stop of stops) stop();
  return { t: 'relay', sent, received, busy, ms: lastAt - started };
}

/** How long the mailbox phase may take in all: a server that stops reading a depositor must not hang the run. */
const MAILBOX_MS = 180_000;

async function mailbox(count: number, items: number, bytes: number): Promise<ClientReply> {
  // The last pairs: none of them was signed out and in again, so both ends are the ones set up.
  const chosen = pairs.slice(-count);
  const payload = new Uint8Array(crypto.randomBytes(bytes));
  const expected = new Set<string>();
  const delivered = new Set<string>();
  let refused = 0;
  let lastAt = performance.now();
  const stops = chosen.flatMap((p) => {
    let acks: string[] = [];
    const flush = (): void => {
      const batch = acks;
      acks = [];
      void p.b.request({ t: 'ack', items: batch }).catch(() => undefined);
    };
    return [
      p.a.on('problem', () => void refused++),
      p.b.on('delivery', (item) => {
        if (!expected.has(item)) return;
        delivered.add(item);
        lastAt = performance.now();
        // The server sends at most 32 unacknowledged items at a time: acknowledge as they come.
        if (acks.push(item) === 1) setImmediate(flush);
      }),
    ];
  });
  const started = performance.now();
  const deadline = Date.now() + MAILBOX_MS;
  await Promise.all(
    chosen.map(async (p) => {
      const target = p.b.device.id;
      for (let i = 0; i < items; i++) {
        while (p.a.buffered > SEND_WINDOW && Date.now() < deadline) await sleep(1);
        if (Date.now() >= deadline) return;
        const item = crypto.randomBytes(16).toString('hex');
        expected.add(item);
        p.a.deposit(item, [target], payload);
        if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  await until(() => delivered.size + refused >= expected.size, Math.max(0, deadline - Date.now()));
  for (const stop of stops) stop();
  return { t: 'mailbox', deposited: expected.size - refused, delivered: delivered.size, refused, ms: lastAt - started };
}

async function run(command: ClientCommand): Promise<ClientReply> {
  switch (command.t) {
    case 'setup':
      return setup(command.urls, command.first, command.count);
    case 'verify':
      return verify(command.sample);
    case 'signout':
      return signOut(command.count);
    case 'signin':
      return signIn();
    case 'presence':
      return presence();
    case 'relay':
      return relay(command.pairs, command.seconds, command.bytes);
    case 'mailbox':
      return mailbox(command.pairs, command.items, command.bytes);
  }
}

process.on('message', (command: ClientCommand) => {
  run(command).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ t: 'failed', message: (err as Error).stack ?? String(err) } satisfies ClientReply),
  );
});
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
