/**
 * Issue 15, point 8: free accounts as a resource. Accounts and codes are rate limited, the whole
 * mailbox has a cap, and items are stored only for devices that may receive them.
 */
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { inWorld } from './hostile-command';
import { cli, ok, type NetWorld } from './net-cluster';

function init(world: NetWorld, name: string): ReturnType<typeof cli> {
  return cli(['init', '--home', world.home(name), '--name', name, '--server', world.url]);
}

function serverLog(world: NetWorld): Promise<string> {
  return readFile(world.serverLog, 'utf8');
}

test('new accounts from one address are refused after the limit, with rateLimited', async () => {
  await inWorld(async (world) => {
    await world.startServer(['--accounts-per-address', '2']);
    await world.user('a1');
    await world.user('a2');
    const third = await init(world, 'a3');
    assert.equal(third.code, 1);
    assert.match(third.stderr, /too many new accounts from this address \(at most 2 an hour\): try again later/);
    assert.match(await serverLog(world), /"event":"accountRefused","remote":"127\.0\.0\.1"/);
    assert.equal(await world.metric('sharedfolders_accounts_refused_total'), 1);
  });
});

test('new accounts beyond the server-wide limit are refused, whatever the address', async () => {
  await inWorld(async (world) => {
    await world.startServer(['--accounts-per-hour', '2', '--accounts-per-address', '100']);
    await world.user('a1');
    await world.user('a2');
    const third = await init(world, 'a3');
    assert.equal(third.code, 1);
    assert.match(third.stderr, /this server accepts at most 2 new accounts an hour: try again later/);
  });
});

test('codes: at most a few an hour per user, invite and link codes together', async () => {
  await inWorld(async (world) => {
    await world.startServer(['--codes-per-hour', '3', '--live-codes', '100']);
    await world.user('alice');
    for (let i = 0; i < 3; i++) await ok(['invite', '--home', world.home('alice')]);
    const fourth = await cli(['invite', '--home', world.home('alice')]);
    assert.equal(fourth.code, 1);
    assert.match(fourth.stderr, /at most 3 invite and link codes an hour: try again later/);
    const link = await cli(['link', '--home', world.home('alice')]);
    assert.equal(link.code, 1);
    assert.match(link.stderr, /at most 3 invite and link codes an hour/, 'link codes count too');
    assert.equal(await world.metric('sharedfolders_codes_refused_total'), 2);
  });
});

test('codes: a bounded number unused at once; using one makes room', async () => {
  await inWorld(async (world) => {
    await world.startServer(['--codes-per-hour', '100', '--live-codes', '2']);
    await world.user('alice');
    await world.user('bob');
    const first = await ok(['invite', '--home', world.home('alice')]);
    await ok(['invite', '--home', world.home('alice')]);
    const third = await cli(['invite', '--home', world.home('alice')]);
    assert.equal(third.code, 1);
    assert.match(third.stderr, /2 invite and link codes of this user are unused: no more until some are used or expire/);
    await ok(['accept', '--home', world.home('bob'), first]);
    await ok(['invite', '--home', world.home('alice')]);
  });
});

test("deposits beyond the server-wide mailbox cap are refused with 'quota', under each user's own quota", async () => {
  await inWorld(async (world, connect) => {
    // 0.5 MiB for everyone; each user's own quota (1 GiB) is far above it.
    await world.startServer(['--mailbox-cap', '0.5']);
    for (const name of ['alice', 'bob', 'carol']) await world.user(name);
    await world.contacts('alice', 'bob');
    await world.contacts('alice', 'carol');
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');
    assert.equal(await bob.answer(`deposit ${alice.device} 300000`), 'replied');
    assert.match(
      await carol.answer(`deposit ${alice.device} 300000`),
      /^problem quota the server's mailbox is full \(524288 bytes for all users\); item [0-9a-f]{32} not stored$/,
    );
    assert.equal(await carol.next(), 'replied', 'the connection stays open');
    assert.match(await serverLog(world), /"event":"mailboxFull"/);
    assert.equal(await world.metric('sharedfolders_deposits_refused_total'), 1);
    assert.equal(await carol.answer(`deposit ${alice.device} 200000`), 'replied', 'what still fits is stored');
  });
});

test('items are stored only for devices that may receive them: not for a stranger, not for the sender itself', async () => {
  await inWorld(async (world, connect) => {
    await world.startServer();
    await world.user('alice');
    await world.user('eve');
    const alice = await connect('alice');
    const eve = await connect('eve');
    assert.match(await eve.answer(`deposit ${alice.device} 100`), /1008 deposit for a device this one may not reach/, 'a stranger');
    // The sending device itself: storing an item for it only uses up the mailbox.
    assert.match(await alice.answer(`deposit ${alice.device} 100`), /1008 deposit for the sending device itself/);
  });
});

test('a fellow member who has left a space can no longer be reached through it', async () => {
  await inWorld(async (world, connect) => {
    await world.aliceAndBob();
    await world.user('carol');
    await world.contacts('alice', 'carol');
    const space = await world.share('alice', 'a', ['bob', 'carol']);
    await world.join('bob', space, 'b');
    await world.join('carol', space, 'c');
    const carol = await connect('carol');
    const bob = await connect('bob');
    assert.equal(await carol.answer(`deposit ${bob.device} 100`), 'replied', 'fellow members reach each other');
    await ok(['leave', '--home', world.home('bob'), '--space', space]);
    assert.match(await carol.answer(`deposit ${bob.device} 100`), /1008 deposit for a device this one may not reach/);
  });
});
