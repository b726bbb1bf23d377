/**
 * Live co-editing latency, against real processes on loopback: a keystroke in alice's editor to
 * the text visible in bob's, through two engine hosts (forked as the extension forks them, over
 * their IPC channels) and a real server on 127.0.0.1. Each side runs a CoeditSession and a
 * TextBinding on an in-memory editor in this process, as the extension host does, so one clock
 * times both ends: from the local edit to the moment bob's document contains it.
 *
 * Keystrokes are typed one at a time, every 30 to 50 ms (a fast typist), without waiting for the
 * previous one to arrive. Prints p50, p90, p99 and max, the bytes per keystroke the server routed
 * (its `sharedfolders_routed_bytes_total`: relay frames as they reach it, so encryption and
 * headers included), the same from alice's channel counters, and the Yjs frames' own bytes.
 *
 *   npm run bench:coedit -- [--keys N] [--min-ms N] [--max-ms N] [--cursor] [--seed N]
 *
 * `--cursor` also publishes the cursor after every keystroke (an awareness frame each), as an
 * editor that shows remote cursors does.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import { CoeditPeer } from '../test/integration/coedit-peer';
import { EngineUser, twoContacts, write } from '../test/integration/engine-cluster';
import { NetWorld, readText } from '../test/integration/net-cluster';
import { Prng } from '../test/sim/prng';
import { numberOption } from './bench-args';
import { percentile } from './percentile';

const KEYS = numberOption('keys', 500);
const MIN_MS = numberOption('min-ms', 30);
const MAX_MS = numberOption('max-ms', 50);
const SEED = numberOption('seed', 1);
const CURSOR = process.argv.includes('--cursor');
/** Typed first and not counted: the hosts' and this process's code gets warm. */
const WARM_UP = 20;

const LETTERS = 'etaoin shrdlu cmfwyp vbgkqj xz,.\n';

async function main(): Promise<void> {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  const peers: CoeditPeer[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    fs.mkdirSync(alice.folder('co'), { recursive: true });
    const bobId = (await bob.status()).identity!.user;
    const aliceId = (await alice.status()).identity!.user;
    const { space } = await alice.client.call('share', { path: alice.folder('co'), with: [bobId], role: 'editor' });
    await bob.untilEvent('invitation', (e) => e.invitation.space === space);
    await bob.client.call('join', { space, path: bob.folder('co') });
    const seed = Array.from({ length: 60 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join('');
    const path = 'notes.txt';
    write(nodePath.join(alice.folder('co'), path), seed);
    await waitFor('notes.txt at bob', () => readText(nodePath.join(bob.folder('co'), path)) === seed, 60_000);

    const a = new CoeditPeer(alice.client, space, path, seed, { id: aliceId, name: 'alice' });
    const b = new CoeditPeer(bob.client, space, path, seed, { id: bobId, name: 'bob' });
    peers.push(a, b);
    await a.open();
    await b.open();
    const aliceDevice = (await alice.status()).identity!.device;
    const bobDevice = (await bob.status()).identity!.device;
    await waitFor('both in the session', () => a.peers.has(bobDevice) && b.peers.has(aliceDevice), 60_000);
    await sleep(500);

    const random = new Prng(SEED);
    const total = WARM_UP + KEYS;
    const typedAt: number[] = [];
    const seenAt: number[] = [];
    const startLength = seed.length;
    const bobListener = b.editor.listener!;
    b.editor.listener = (changes, version) => {
      bobListener(changes, version);
      // Only alice types, and only inserts: bob's length says how many keystrokes it holds.
      const now = performance.now();
      const held = b.editor.text.length - startLength;
      for (let k = seenAt.length; k < Math.min(held, typedAt.length); k++) seenAt.push(now);
    };

    let cursor = seed.indexOf('line 30');
    let bytesBefore = 0;
    let messagesBefore = 0;
    let sentBefore = 0;
    let frameBytesBefore = 0;
    for (let k = 0; k < total; k++) {
      if (k === WARM_UP) {
        await waitFor('the warm-up at bob', () => seenAt.length === WARM_UP, 30_000);
        await sleep(300);
        bytesBefore = await world.metric('sharedfolders_routed_bytes_total');
        messagesBefore = await world.metric('sharedfolders_routed_messages_total');
        sentBefore = (await alice.status()).bytesSent;
        frameBytesBefore = a.frameBytes;
      }
      const letter = LETTERS[random.int(LETTERS.length)]!;
      typedAt.push(performance.now());
      a.editor.edit(cursor, 0, letter);
      cursor++;
      if (CURSOR) a.session.setLocalSelection({ anchor: cursor, head: cursor });
      await sleep(random.range(MIN_MS, MAX_MS));
    }
    await waitFor('every keystroke at bob', () => seenAt.length === total, 60_000);
    if (b.editor.text !== a.editor.text) throw new Error('the two texts differ at the end');
    await sleep(300);
    const routed = (await world.metric('sharedfolders_routed_bytes_total')) - bytesBefore;
    const messages = (await world.metric('sharedfolders_routed_messages_total')) - messagesBefore;
    const sent = (await alice.status()).bytesSent - sentBefore;
    const frameBytes = a.frameBytes - frameBytesBefore;
    if (a.errors.length + b.errors.length > 0)
      throw new Error(`host calls failed: ${[...a.errors, ...b.errors].map((e) => e.message).join('; ')}`);

    const latencies = typedAt.slice(WARM_UP).map((t, i) => seenAt[WARM_UP + i]! - t);
    const sorted = [...latencies].sort((x, y) => x - y);
    const ms = (v: number): string => v.toFixed(1);
    const mean = latencies.reduce((s, v) => s + v, 0) / latencies.length;
    console.log(
      `co-editing: ${KEYS} keystrokes (after ${WARM_UP} warm-up), one every ${MIN_MS}-${MAX_MS} ms, seed ${SEED}${CURSOR ? ', cursor published after each' : ''}`,
    );
    console.log(
      `keystroke on alice to text at bob: p50 ${ms(percentile(sorted, 50))} ms, p90 ${ms(percentile(sorted, 90))} ms, p99 ${ms(percentile(sorted, 99))} ms, max ${ms(sorted[sorted.length - 1]!)} ms, mean ${ms(mean)} ms (target p50 < 30 ms)`,
    );
    console.log(
      `server routed: ${routed} bytes in ${messages} relay frames, ${(routed / KEYS).toFixed(1)} bytes per keystroke (both directions, everything the two devices sent each other meanwhile)`,
    );
    console.log(
      `alice's channels sent: ${sent} bytes, ${(sent / KEYS).toFixed(1)} per keystroke; Yjs frames alice handed her host: ${frameBytes} bytes, ${(frameBytes / KEYS).toFixed(1)} per keystroke`,
    );
  } finally {
    for (const p of peers) await p.close().catch(() => undefined);
    for (const u of users) await u.stop();
    await world.close();
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
