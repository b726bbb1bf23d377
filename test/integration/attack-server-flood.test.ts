/**
 * A hostile client against the real server process (issue 15, points 6 and 7): frames that never
 * end before sign-in, a relay target that never reads, and half-sent upgrade requests. The
 * server must stay within a memory bound, close what it cannot serve, log it once per burst,
 * count it in /metrics, and still let a real device in.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deviceIdOf } from '../../src/node/crypto/device-keys';
import { waitFor } from './disk-cluster';
import {
  binaryFrameHeader,
  halfUpgrade,
  linkedPair,
  logEvents,
  measureFrom,
  memoryOf,
  MiB,
  rawWebSocket,
  realDevice,
  tcp,
  watchClose,
  writeUntilClosed,
} from './hostile-client';
import { NetWorld } from './net-cluster';

/** What the server may grow by, at its peak, under each attack: well under what the attacks send. */
const GROWTH_BOUND = 128 * MiB;

describe('a hostile client of the server', () => {
  let world: NetWorld;
  let pid: number;

  before(async () => {
    world = new NetWorld();
    await world.startServer();
    pid = world.server!.pid!;
    const warm = await realDevice(world.url, 'warm-up');
    await warm.close();
  });

  after(async () => world.close());

  it('closes sockets that send more than sign-in needs before signing in, and keeps its memory', async () => {
    const baseline = measureFrom(pid);
    const SOCKETS = 100;
    const SENT = 4 * MiB; // of a frame that says 16 MiB: the server may not wait for the rest
    const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => rawWebSocket(world.port)));
    const watched = sockets.map(watchClose);
    const flood = Promise.all(
      sockets.map((s, i) => {
        s.write(binaryFrameHeader(16 * MiB));
        return writeUntilClosed(s, SENT, watched[i]!.isClosed);
      }),
    );
    const during = await realDevice(world.url, 'during-the-flood');
    await flood;
    const { peak } = memoryOf(pid);
    assert.ok(
      peak - baseline < GROWTH_BOUND,
      `server peak ${(peak / MiB).toFixed(0)} MiB grew more than ${GROWTH_BOUND / MiB} MiB over ${(baseline / MiB).toFixed(0)} MiB`,
    );
    await waitFor('every flooding socket closed by the server', () => watched.every((w) => w.isClosed()), 30_000);
    assert.equal(await world.metric('sharedfolders_closed_before_sign_in_for_size_total'), SOCKETS);
    assert.equal(logEvents(fs.readFileSync(world.serverLog, 'utf8'), 'tooMuchBeforeSignIn').length, 1, 'one log line for the burst');
    const afterwards = await realDevice(world.url, 'after-the-flood');
    await waitFor('memory back near where it started', () => memoryOf(pid).rss - baseline < 64 * MiB, 30_000);
    await during.close();
    await afterwards.close();
  });

  it('slows, then refuses with busy, relays to a device that does not read, and keeps its memory', async () => {
    // The target reads at 1 KiB/s: the real client stops reading its socket for the rest.
    const { first: sender, second: target, secondKeys } = await linkedPair(world.url, { limitDown: 1024 });
    const baseline = measureFrom(pid);
    const problems: string[] = [];
    sender.on('problem', (code, message) => problems.push(`${code}: ${message}`));
    const payload = new Uint8Array(MiB);
    for (let i = 0; i < 200; i++) {
      assert.ok(sender.relay(deviceIdOf(secondKeys), payload), 'the sender stays connected');
      assert.ok(await sender.drained(4 * MiB), 'the sender stays connected');
    }
    const { peak } = memoryOf(pid);
    assert.ok(peak - baseline < GROWTH_BOUND, `server peak ${(peak / MiB).toFixed(0)} MiB over ${(baseline / MiB).toFixed(0)} MiB`);
    await waitFor('the sender told its frames are refused', () => problems.length > 0, 30_000);
    assert.match(problems[0]!, /^busy: device [0-9a-f]+ is not reading what is sent to it; a relay frame of \d+ bytes was dropped$/);
    assert.ok((await world.metric('sharedfolders_relays_refused_total')) > 0);
    // The per-connection bound (8 MiB) and one more frame, while the target still reads nothing.
    const queued = await world.metric('sharedfolders_outbound_buffered_bytes');
    assert.ok(queued <= 9 * MiB + 1024, `queued toward devices: ${queued} bytes`);
    await target.close();
    await waitFor(
      'nothing queued once the target is gone',
      async () => (await world.metric('sharedfolders_outbound_buffered_bytes')) === 0,
      30_000,
    );
    await sender.close();
  });

  it('closes half-sent upgrades within the sign-in limit, caps connections per address, logs once, counts', async () => {
    const CAP = 256; // the default of --connections-per-address
    const EXTRA = 44;
    const sockets = await Promise.all(Array.from({ length: CAP + EXTRA }, () => tcp(world.port)));
    const watched = sockets.map(watchClose);
    for (const s of sockets) if (!s.destroyed) halfUpgrade(s);
    const closed = (): number => watched.filter((w) => w.isClosed()).length;
    await waitFor('the connections over the cap closed', () => closed() >= EXTRA, 10_000);
    assert.equal(closed(), EXTRA, 'the connections under the cap are held until their time runs out');
    // A real user, from its own address, still gets in.
    const user = await realDevice(world.url, 'during-the-half-open-requests');
    assert.equal(await world.metric('sharedfolders_connections_refused_total'), EXTRA);
    assert.equal(logEvents(fs.readFileSync(world.serverLog, 'utf8'), 'connectionsRefused').length, 1, 'one log line for the burst');
    // The sign-in limit is 10 s: 25 s leaves room for busy cores, and is far below the 60 s Node waits by itself.
    await waitFor('every half-sent upgrade closed', () => closed() === CAP + EXTRA, 25_000);
    assert.equal(await world.metric('sharedfolders_requests_timed_out_total'), CAP);
    const log = fs.readFileSync(world.serverLog, 'utf8');
    assert.equal(logEvents(log, 'requestTimedOut').length, 1, 'one log line for the burst');
    assert.deepEqual(
      logEvents(log, 'requestTimedOut')[0],
      { ...logEvents(log, 'requestTimedOut')[0], remote: '127.0.0.2', limitMs: 10_000 },
      'the line names the address and the limit',
    );
    await waitFor(
      'the refusals counted in one closing line',
      () => logEvents(fs.readFileSync(world.serverLog, 'utf8'), 'connectionsRefusedEnded').some((e) => e['count'] === EXTRA),
      30_000,
    );
    await user.close();
  });
});
