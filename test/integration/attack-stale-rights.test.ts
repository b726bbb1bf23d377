/**
 * Issue 15, point 9: rights are checked against the current state on every relay and deposit,
 * including on connections opened before the rights changed; every connection is pinged.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { waitFor } from './disk-cluster';
import { inWorld } from './hostile-command';

test("a removed contact's open command connections can no longer relay or deposit to the one who removed them", async () => {
  await inWorld(async (world, connect) => {
    await world.aliceAndBob();
    const alice = await connect('alice');
    const bobRelays = await connect('bob');
    const bobDeposits = await connect('bob');
    // While they are contacts both get through (and the server has worked out bob's rights).
    assert.equal(await bobRelays.answer(`relay ${alice.device}`), 'replied');
    assert.equal(await bobDeposits.answer(`deposit ${alice.device} 100`), 'replied');

    assert.equal(await alice.answer(`remove ${bobRelays.user}`), 'replied');

    const relay = await bobRelays.answer(`relay ${alice.device}`);
    const deposit = await bobDeposits.answer(`deposit ${alice.device} 100`);
    const seen = `relay: ${relay}; deposit: ${deposit}`;
    assert.match(relay, /1008 relay to a device this one may not reach/, seen);
    assert.match(deposit, /1008 deposit for a device this one may not reach/, seen);
  });
});

test('a command connection that stops answering pings is terminated, and the server logs it', async () => {
  await inWorld(async (world, connect) => {
    await world.startServer(['--heartbeat', '1']);
    await world.user('bob');
    const bob = await connect('bob');
    bob.child.kill('SIGSTOP');
    const lost = (): Record<string, unknown> | undefined =>
      fs
        .readFileSync(world.serverLog, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e['event'] === 'heartbeatLost' && e['device'] === bob.device);
    await waitFor('the server to give up on the silent command connection', () => lost() !== undefined, 20_000);
    assert.equal(lost()!['kind'], 'command');
    assert.equal(await world.metric('sharedfolders_heartbeats_lost_total'), 1);
    bob.child.kill('SIGCONT');
    assert.match(await bob.next(), /^disconnected 1006/);
  });
});
