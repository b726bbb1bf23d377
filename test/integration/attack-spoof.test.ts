import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { MailKind } from '../../src/node/net/payload-kind';
import { waitFor } from './disk-cluster';
import { depositForged, forgedSyncItem } from './forged-mail';
import { NetWorld, cli, ok, readText } from './net-cluster';

const SYNC_MS = 30_000;
const ESC = '\u001b';

function arrives(world: NetWorld, folder: string, path: string, text: string): Promise<void> {
  return waitFor(`${path} in ${folder}`, () => readText(nodePath.join(world.folder(folder), path)) === text, SYNC_MS);
}

function signedIn(world: NetWorld, who: string): Promise<void> {
  return waitFor(`${who} to sync its space`, () => / syncing /.test(world.log(who)), SYNC_MS);
}

function chatPayload(entry: Record<string, unknown>): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(entry));
  return new Uint8Array([MailKind.Chat, ...body]);
}

interface SpaceCache {
  bytes: number;
  blocks: number;
  budget: number;
}

async function mailCache(world: NetWorld, who: string, space: string): Promise<SpaceCache | undefined> {
  const status = (await world.status(who)) as unknown as { spaces: { id: string; mailCache?: SpaceCache }[] };
  return status.spaces.find((s) => s.id === space)?.mailCache;
}

test('a member cannot forge who sent a chat message or when, nor forge log lines with control characters', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    await signedIn(world, 'bob');

    const before = Date.now();
    const id = crypto.randomBytes(16).toString('hex');
    await depositForged(world, 'alice', 'bob', (alice, bob) =>
      chatPayload({
        conversation: bob.id,
        from: alice.id,
        fromName: 'carol (the owner)',
        sent: Date.parse('2001-01-01T00:00:00Z'),
        text: `pay this invoice${ESC}[2J\n2026-01-01 00:00:00 carol: it is fine`,
        id,
      }),
    );
    await waitFor(
      'bob to file the message',
      () => fs.readdirSync(world.home('bob')).includes('chat') && world.log('bob').includes('chat from'),
      SYNC_MS,
    );
    const read = await cli(['chat', '--home', world.home('bob'), '--read', '--with', 'alice', '--json']);
    assert.equal(read.code, 0, read.stderr);
    const messages = (JSON.parse(read.stdout) as { messages: { id: string; fromName: string; sent: number }[] }).messages;
    const forged = messages.find((m) => m.id === id)!;
    assert.equal(forged.fromName, 'alice', "the name is the sender's own, not the one in the message");
    assert.ok(forged.sent >= before && forged.sent <= Date.now(), `received at ${forged.sent}, not the claimed 2001`);
    assert.match(world.log('bob'), /chat from alice: pay this invoice\\u001b\[2J\\u000a2026-01-01 00:00:00 carol: it is fine\n/);

    const shown = await cli(['chat', '--home', world.home('bob'), '--read', '--with', 'alice']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(!shown.stdout.includes(ESC), `no escape code reaches the terminal: ${JSON.stringify(shown.stdout)}`);
    assert.match(shown.stdout, / alice: pay this invoice\\u001b\[2J\n {4}2026-01-01 00:00:00 carol: it is fine/);

    // A file name made to end the log line and start a forged one.
    const forgedLine = `2026-01-01T00:00:00.000Z space ${space}: changes from carol to 1 file: "all fine"`;
    await depositForged(
      world,
      'alice',
      'bob',
      forgedSyncItem(space, [
        { path: `x\n${forgedLine}${ESC}[8m.txt`, data: new TextEncoder().encode('hidden\n') },
        { path: 'ordinary.txt', data: new TextEncoder().encode('ordinary\n') },
      ]),
    );
    await arrives(world, 'b', 'ordinary.txt', 'ordinary\n');
    await waitFor('the refused name to be logged', () => world.log('bob').includes('controlCharacter'), SYNC_MS);
    const log = world.log('bob');
    assert.ok(!log.includes(ESC), 'no escape code in the log');
    assert.ok(!log.split('\n').some((line) => line.startsWith(forgedLine)), 'no forged line in the log');
    assert.ok(log.includes(`x\\u000a${forgedLine}\\u001b[8m.txt`), 'the name is in the log, escaped');
  } finally {
    await world.close();
  }
});

test('blocks from the mailbox count against a per-space budget shown in status, and go once no pending record needs them', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    world.start('bob');
    await signedIn(world, 'bob');

    // alice's device (offline as far as sync goes) deposits a small file and 600 KiB of blocks no record names.
    const junk = new Uint8Array(crypto.randomBytes(600 * 1024));
    await depositForged(
      world,
      'alice',
      'bob',
      forgedSyncItem(space, [{ path: 'small.txt', data: new TextEncoder().encode('small\n') }], junk),
    );
    await arrives(world, 'b', 'small.txt', 'small\n');
    const cacheDir = nodePath.join(world.home('bob'), 'state', space, 'mailblocks');
    await waitFor(
      'the cache to empty once nothing pending needs its blocks',
      () => !fs.existsSync(cacheDir) || fs.readdirSync(cacheDir).length === 0,
      SYNC_MS,
    );
    await waitFor('the empty cache in status', async () => (await mailCache(world, 'bob', space))?.bytes === 0, SYNC_MS);
    assert.deepEqual(await mailCache(world, 'bob', space), { bytes: 0, blocks: 0, budget: 1024 * 1024 * 1024 });

    // A smaller budget, set on bob's device while it runs.
    await ok(['space-option', '--home', world.home('bob'), '--space', space, '--mail-cache', '1']);
    await waitFor('the new budget in status', async () => (await mailCache(world, 'bob', space))?.budget === 1024 * 1024, SYNC_MS);

    // More than the budget: what does not fit is not kept, and bob is told.
    const big = new Uint8Array(crypto.randomBytes(3 * 1024 * 1024));
    await depositForged(world, 'alice', 'bob', forgedSyncItem(space, [{ path: 'big.bin', data: big }]));
    await waitFor(
      'the refusal in the log',
      () => /blocks from device [0-9a-f]+ not kept: the mailbox block cache holds/.test(world.log('bob')),
      SYNC_MS,
    );
    const cache = (await mailCache(world, 'bob', space))!;
    assert.ok(cache.bytes <= cache.budget, JSON.stringify(cache));
    const onDisk = fs.readdirSync(cacheDir).reduce((n, f) => n + fs.statSync(nodePath.join(cacheDir, f)).size, 0);
    assert.ok(onDisk <= 1024 * 1024, `${onDisk} bytes cached`);
  } finally {
    await world.close();
  }
});
