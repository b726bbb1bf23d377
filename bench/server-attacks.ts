/**
 * The hostile-client attacks of issue 15 at full size, against a real server process on
 * loopback; prints the server's peak and after-attack resident memory and whether a real device
 * could sign in during each attack:
 *  1. 300 unauthenticated sockets each sending 15 MiB of a 16 MiB frame;
 *  2. 1 MiB relay frames for 20 s to a device that never reads;
 *  3. 20,000 half-sent upgrade requests (fewer if this process's file-descriptor limit is lower).
 * `--sockets N`, `--relay-seconds N` and `--half-open N` scale them.
 */
import * as fs from 'node:fs';
import { deviceIdOf } from '../src/node/crypto/device-keys';
import type { RendezvousClient } from '../src/node/net/rendezvous-client';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import {
  binaryFrameHeader,
  halfUpgrade,
  linkedPair,
  measureFrom,
  memoryOf,
  MiB,
  rawWebSocket,
  realDevice,
  tcp,
  watchClose,
  writeUntilClosed,
} from '../test/integration/hostile-client';
import { NetWorld } from '../test/integration/net-cluster';
import { numberOption } from './bench-args';

const SOCKETS = numberOption('sockets', 300);
const RELAY_SECONDS = numberOption('relay-seconds', 20);
const HALF_OPEN = numberOption('half-open', 20_000);

const mib = (b: number): string => `${(b / MiB).toFixed(0)} MiB`;

/** Whether a new device signs in within 15 s while the attack runs. */
async function canSignIn(world: NetWorld, name: string): Promise<string> {
  const started = Date.now();
  const attempt = realDevice(world.url, name).then(async (c: RendezvousClient) => (await c.close(), `yes, in ${Date.now() - started} ms`));
  return Promise.race([attempt.catch((err: Error) => `no: ${err.message}`), sleep(15_000).then(() => 'no: not within 15 s')]);
}

async function report(world: NetWorld, name: string, start: number, signIn: string, note = ''): Promise<void> {
  const peak = memoryOf(world.server!.pid!).peak;
  await sleep(5_000);
  const after = memoryOf(world.server!.pid!).rss;
  console.log(
    `${name}: server RSS ${mib(start)} before, peak ${mib(peak)}, ${mib(after)} 5 s after; real device signed in during it: ${signIn}${note}`,
  );
}

/** From four addresses, so that the cap per address lets all of them in: the point is the memory. */
async function flood(world: NetWorld): Promise<void> {
  const start = measureFrom(world.server!.pid!);
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, (_, i) => rawWebSocket(world.port, `127.0.0.${2 + (i % 4)}`)));
  const watched = sockets.map(watchClose);
  const sending = Promise.all(
    sockets.map((s, i) => (s.write(binaryFrameHeader(16 * MiB)), writeUntilClosed(s, 15 * MiB, watched[i]!.isClosed))),
  );
  const signIn = await canSignIn(world, 'during-flood');
  const written = (await sending).reduce((a, b) => a + b, 0);
  await waitFor('the flooding sockets closed', () => watched.every((w) => w.isClosed()), 60_000);
  await report(
    world,
    `pre-sign-in flood (${SOCKETS} x 15 MiB of a 16 MiB frame)`,
    start,
    signIn,
    `; ${mib(written)} written before the server closed them`,
  );
}

async function neverReading(world: NetWorld): Promise<void> {
  const { first: sender, second: target, secondKeys } = await linkedPair(world.url, { limitDown: 1024 });
  const start = measureFrom(world.server!.pid!);
  let refused = 0;
  sender.on('problem', (code) => void (code === 'busy' && refused++));
  const payload = new Uint8Array(MiB);
  const until = Date.now() + RELAY_SECONDS * 1000;
  let sent = 0;
  const signing = sleep(RELAY_SECONDS * 500).then(() => canSignIn(world, 'during-relay'));
  while (Date.now() < until && sender.relay(deviceIdOf(secondKeys), payload) && (await sender.drained(4 * MiB))) sent++;
  const signIn = await signing;
  await target.close();
  await sender.close();
  await report(
    world,
    `relay to a device that does not read (${RELAY_SECONDS} s)`,
    start,
    signIn,
    `; ${sent} MiB sent, ${refused} frames refused with busy`,
  );
}

function fdLimit(): number {
  const line = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return line ? Number(line[1]) : 1024;
}

async function halfOpen(world: NetWorld): Promise<void> {
  const count = Math.min(HALF_OPEN, fdLimit() - 200);
  const note = count < HALF_OPEN ? ` (this process's file-descriptor limit allows ${count})` : '';
  const start = measureFrom(world.server!.pid!);
  const sockets: ReturnType<typeof watchClose>[] = [];
  for (let i = 0; i < count; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, count - i) }, () => tcp(world.port).catch(() => undefined)));
    for (const s of batch) {
      if (!s) continue;
      sockets.push(watchClose(s));
      if (!s.destroyed) halfUpgrade(s);
    }
  }
  const signIn = await canSignIn(world, 'during-half-open');
  const t0 = Date.now();
  await waitFor('every half-open request closed', () => sockets.every((w) => w.isClosed()), 120_000);
  const refused = await world.metric('sharedfolders_connections_refused_total');
  const timedOut = await world.metric('sharedfolders_requests_timed_out_total');
  await report(
    world,
    `${count} half-sent upgrades${note}`,
    start,
    signIn,
    `; ${refused} refused at once, ${timedOut} closed when their time ran out, the last ${Date.now() - t0} ms after the attack`,
  );
}

async function main(): Promise<void> {
  const world = new NetWorld();
  try {
    await world.startServer();
    await flood(world);
    await neverReading(world);
    await halfOpen(world);
  } finally {
    await world.close();
  }
}

// The throttled target's client holds a long timer to resume reading; the figures are printed.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
