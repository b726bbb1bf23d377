import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Client } from 'pg';
import type { DeviceInfo, MemberStatus, SpaceDoc } from '../../src/sync/protocol/rendezvous';
import { MIGRATIONS } from '../../src/server/postgres-migrations';
import { PostgresStore } from '../../src/server/postgres-store';
import { DEFAULT_LIMITS } from '../../src/server/server-limits';
import { serverRates } from '../../src/server/server-rates';
import type { MailboxItem, ServerStore } from '../../src/server/server-store';
import { SqliteStore } from '../../src/server/sqlite-store';
import { createTestDatabase } from './pg-database';
import type { TestDatabase } from './pg-database';

/**
 * The same cases against every ServerStore. `peer()` is a second handle on the same data, as a
 * second server process would have one: for PostgreSQL a second pool on the same database.
 */
interface Engine {
  readonly store: ServerStore;
  peer(): Promise<ServerStore>;
  /** Makes the database stop answering `store`. */
  silence(): Promise<void>;
  cleanUp(): Promise<void>;
}

const ENGINES: Record<string, () => Promise<Engine>> = {
  SqliteStore: async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-store-'));
    const stores = [SqliteStore.open(dir)];
    return {
      store: stores[0]!,
      peer: async () => {
        stores.push(SqliteStore.open(dir));
        return stores.at(-1)!;
      },
      silence: () => stores[0]!.close(),
      cleanUp: async () => {
        for (const s of stores) await s.close().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  PostgresStore: async () => {
    const db = await createTestDatabase();
    const stores = [await PostgresStore.open(db.url)];
    return {
      store: stores[0]!,
      peer: async () => {
        stores.push(await PostgresStore.open(db.url));
        return stores.at(-1)!;
      },
      silence: () => db.drop(),
      cleanUp: async () => {
        for (const s of stores) await s.close().catch(() => undefined);
        await db.drop();
      },
    };
  },
};

const HOUR = 3_600_000;

/** A valid id (32 hex digits) made from a short name, so tests read by name. */
function id(name: string): string {
  return Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32);
}

function device(name: string, endorsedBy?: string): DeviceInfo {
  const keys = { id: id(name), signPublic: 'a'.repeat(64), agreePublic: 'b'.repeat(64) };
  return endorsedBy
    ? { ...keys, endorsement: { key: 'c'.repeat(64), by: id(endorsedBy), keySig: 'd'.repeat(128), sig: 'e'.repeat(128) } }
    : keys;
}

function spaceDoc(space: string, version: number, members: string[], author = members[0]!): SpaceDoc {
  return {
    id: id(space),
    kind: 'group',
    version,
    members: members.map((m, i) => ({ user: id(m), role: i === 0 ? 'owner' : 'editor' })),
    author: id(author),
    signature: 'f'.repeat(128),
  };
}

function statuses(entries: Record<string, MemberStatus>): Map<string, MemberStatus> {
  return new Map(Object.entries(entries).map(([user, status]) => [id(user), status]));
}

function item(itemId: string, senderUser: string, bytes: number, created = 0): MailboxItem {
  return { id: itemId, sender: `${senderUser}-device`, senderUser, payload: new Uint8Array(bytes).fill(bytes % 256), created };
}

for (const [name, makeEngine] of Object.entries(ENGINES)) {
  describe(name, () => {
    let engine: Engine;
    let store: ServerStore;
    beforeEach(async () => {
      engine = await makeEngine();
      store = engine.store;
    });
    afterEach(() => engine.cleanUp());

    test('users and their devices, in the order they were added, with endorsements', async () => {
      await store.createUser({ id: id('alice'), name: 'Alice' }, device('laptop'), 1000);
      await store.addDevice(id('alice'), device('phone', 'laptop'), 3000);
      await store.addDevice(id('alice'), device('tablet', 'laptop'), 2000);
      assert.deepEqual(await store.user(id('alice')), { id: id('alice'), name: 'Alice' });
      assert.deepEqual(await store.device(id('phone')), { ...device('phone', 'laptop'), user: id('alice') });
      assert.deepEqual(await store.device(id('laptop')), { ...device('laptop'), user: id('alice') });
      assert.deepEqual(await store.devicesOf(id('alice')), [device('laptop'), device('tablet', 'laptop'), device('phone', 'laptop')]);
      assert.equal(await store.user(id('bob')), undefined);
      assert.equal(await store.device(id('nothing')), undefined);
      assert.deepEqual(await store.devicesOf(id('bob')), []);
    });

    test('a user whose device cannot be stored is not created either, and a device needs its user', async () => {
      await store.createUser({ id: id('alice'), name: 'Alice' }, device('laptop'), 1000);
      await assert.rejects(store.createUser({ id: id('bob'), name: 'Bob' }, device('laptop'), 1000));
      assert.equal(await store.user(id('bob')), undefined, 'the failed device took the user with it');
      await assert.rejects(store.createUser({ id: id('alice'), name: 'Again' }, device('other'), 1000));
      assert.equal(await store.device(id('other')), undefined);
      await assert.rejects(store.addDevice(id('nobody'), device('stray'), 1000));
      assert.equal(await store.device(id('stray')), undefined);
    });

    test('a token is taken once, only as its kind and before it expires; its maker cannot use it up', async () => {
      await store.putToken('t1', 'invite', 'u', 100);
      assert.equal(await store.takeToken('t1', 'link', 50), undefined, 'wrong kind');
      assert.equal(await store.takeToken('t1', 'invite', 50, 'u'), 'u', 'its maker sees it');
      assert.equal(await store.takeToken('t1', 'invite', 50, 'u'), 'u', 'and it is kept for its maker');
      assert.equal(await store.takeToken('t1', 'invite', 150, 'u'), undefined, 'not once expired');
      assert.equal(await store.takeToken('t1', 'invite', 50, 'v'), 'u', 'someone else takes it');
      assert.equal(await store.takeToken('t1', 'invite', 50, 'v'), undefined, 'once');
      assert.equal(await store.takeToken('unknown', 'invite', 50), undefined);

      await store.putToken('old', 'link', 'u', 100);
      assert.equal(await store.takeToken('old', 'link', 101), undefined, 'expired');
      await store.putToken('old', 'link', 'u', 300);
      assert.equal(await store.takeToken('old', 'link', 200), 'u', 'the expired one was deleted, and the new one taken');
      await store.putToken('stale', 'invite', 'w', 100);
      await store.putToken('fresh', 'invite', 'w', 500);
      assert.equal(await store.takeToken('fresh', 'invite', 200), 'w');
      await store.putToken('stale', 'invite', 'w', 600);
      assert.equal(await store.takeToken('stale', 'invite', 200), 'w', 'a take deletes every expired token');
    });

    test('live tokens are the unexpired ones of that user', async () => {
      await store.putToken('a', 'invite', 'u', 100);
      await store.putToken('b', 'link', 'u', 200);
      await store.putToken('c', 'invite', 'v', 200);
      assert.equal(await store.liveTokens('u', 50), 2);
      assert.equal(await store.liveTokens('u', 150), 1);
      await store.takeToken('b', 'link', 150);
      assert.equal(await store.liveTokens('u', 150), 0);
      assert.equal(await store.liveTokens('v', 200), 1, 'a token is live through its expiry time');
    });

    test('contacts go both ways, once, sorted, and are removed both ways', async () => {
      await store.addContact('a', 'c');
      await store.addContact('a', 'b');
      await store.addContact('b', 'a');
      assert.deepEqual(await store.contactsOf('a'), ['b', 'c']);
      assert.deepEqual(await store.contactsOf('b'), ['a']);
      await store.removeContact('b', 'a');
      assert.deepEqual(await store.contactsOf('a'), ['c']);
      assert.deepEqual(await store.contactsOf('b'), []);
      await store.removeContact('b', 'a');
      assert.deepEqual(await store.contactsOf('c'), ['a']);
    });

    test('a space is stored only as the next version, with its members and their statuses', async () => {
      assert.equal(await store.putSpace(spaceDoc('s', 2, ['alice']), statuses({ alice: 'joined' })), false, 'no version 1 yet');
      assert.equal(await store.space(id('s')), undefined);
      assert.ok(await store.putSpace(spaceDoc('s', 1, ['alice', 'bob']), statuses({ alice: 'joined', bob: 'invited' })));
      assert.equal(await store.putSpace(spaceDoc('s', 1, ['alice']), statuses({ alice: 'joined' })), false, 'version 1 is taken');
      assert.equal(await store.putSpace(spaceDoc('s', 3, ['alice']), statuses({ alice: 'joined' })), false, 'a gap');
      assert.deepEqual(await store.space(id('s')), {
        doc: spaceDoc('s', 1, ['alice', 'bob']),
        status: { [id('alice')]: 'joined', [id('bob')]: 'invited' },
      });
      assert.deepEqual(await store.spacesOf(id('bob')), [id('s')]);

      await store.setMemberStatus(id('s'), id('bob'), 'joined');
      await store.setMemberStatus(id('s'), id('carol'), 'joined');
      assert.deepEqual((await store.space(id('s')))?.status, { [id('alice')]: 'joined', [id('bob')]: 'joined' }, 'only members');

      assert.ok(await store.putSpace(spaceDoc('s', 2, ['alice', 'carol']), statuses({ alice: 'joined', carol: 'invited' })));
      assert.deepEqual(await store.space(id('s')), {
        doc: spaceDoc('s', 2, ['alice', 'carol']),
        status: { [id('alice')]: 'joined', [id('carol')]: 'invited' },
      });
      assert.deepEqual(await store.spacesOf(id('bob')), [], 'the new version replaced the members');
      assert.ok(await store.putSpace(spaceDoc('r', 1, ['alice']), statuses({ alice: 'joined' })));
      assert.deepEqual(await store.spacesOf(id('alice')), [id('r'), id('s')].sort());
    });

    test('vectors: one hash per device of a space, replaced, sorted by device', async () => {
      await store.putVector('s', 'd2', 'h1');
      await store.putVector('s', 'd1', 'h2');
      await store.putVector('s', 'd2', 'h3');
      await store.putVector('t', 'd1', 'h4');
      assert.deepEqual(await store.vectors('s'), [
        { device: 'd1', hash: 'h2' },
        { device: 'd2', hash: 'h3' },
      ]);
      assert.deepEqual(await store.vectors('none'), []);
    });

    test("a deposit is refused past the sender's quota ('quota') and past the whole mailbox's cap ('full')", async () => {
      const limits = { user: 100, total: 150 };
      assert.equal(await store.deposit(item('1', 'u', 80), ['d'], limits), 'stored');
      assert.equal(await store.deposit(item('2', 'u', 30), ['d'], limits), 'quota');
      assert.equal(await store.deposit(item('3', 'v', 80), ['d'], limits), 'full');
      assert.equal(await store.deposit(item('4', 'v', 70), ['d'], limits), 'stored', 'exactly up to the cap');
      assert.equal(await store.deposit(item('1', 'u', 80), ['d'], limits), 'stored', 'an item stored already counts as done');
      await store.acknowledge('d', ['1']);
      assert.equal(await store.deposit(item('5', 'v', 31), ['d'], limits), 'quota', "v's own quota still holds");
      assert.equal(await store.deposit(item('6', 'u', 80), ['d'], limits), 'stored', 'acknowledged bytes are free again');
      await store.expireMailbox(1);
      assert.equal(await store.deposit(item('7', 'w', 150), ['d'], { user: 150, total: 150 }), 'stored', 'expired bytes are free again');
    });

    test('pending items come oldest first, limited, without payloads; a payload is there until acknowledged by all', async () => {
      const limits = { user: 1000, total: 1000 };
      await store.deposit(item('late', 'u', 3, 20), ['d1', 'd2'], limits);
      await store.deposit(item('early', 'u', 5, 10), ['d1'], limits);
      await store.deposit(item('late2', 'v', 7, 20), ['d1', 'd1'], limits);
      assert.deepEqual(await store.pendingFor('d1', 10), [
        { id: 'early', sender: 'u-device', bytes: 5 },
        { id: 'late', sender: 'u-device', bytes: 3 },
        { id: 'late2', sender: 'v-device', bytes: 7 },
      ]);
      assert.deepEqual(await store.pendingFor('d1', 2), [
        { id: 'early', sender: 'u-device', bytes: 5 },
        { id: 'late', sender: 'u-device', bytes: 3 },
      ]);
      assert.deepEqual(await store.pendingFor('d2', 10), [{ id: 'late', sender: 'u-device', bytes: 3 }]);
      assert.deepEqual(await store.mailboxPayload('late'), new Uint8Array(3).fill(3));
      assert.deepEqual(await store.mailboxTotals(), { items: 3, bytes: 15 });

      await store.acknowledge('d1', ['late', 'early', 'unknown']);
      assert.deepEqual(
        (await store.pendingFor('d1', 10)).map((h) => h.id),
        ['late2'],
      );
      assert.equal(await store.mailboxPayload('early'), undefined, 'its only recipient acknowledged it');
      assert.deepEqual(await store.mailboxPayload('late'), new Uint8Array(3).fill(3), 'd2 has not acknowledged it');
      await store.acknowledge('d3', ['late']);
      assert.ok(await store.mailboxPayload('late'), 'a device that is no recipient changes nothing');
      await store.acknowledge('d2', ['late']);
      assert.equal(await store.mailboxPayload('late'), undefined);
      await store.acknowledge('d2', []);
      assert.deepEqual(await store.mailboxTotals(), { items: 1, bytes: 7 });
    });

    test('expiry drops the items older than the time given, and says how many', async () => {
      const limits = { user: 1000, total: 1000 };
      await store.deposit(item('a', 'u', 1, 10), ['d'], limits);
      await store.deposit(item('b', 'u', 2, 20), ['d', 'e'], limits);
      await store.deposit(item('c', 'u', 4, 30), ['d'], limits);
      assert.equal(await store.expireMailbox(30), 2);
      assert.deepEqual(
        (await store.pendingFor('d', 10)).map((h) => h.id),
        ['c'],
      );
      assert.deepEqual(await store.pendingFor('e', 10), []);
      assert.deepEqual(await store.mailboxTotals(), { items: 1, bytes: 4 });
      assert.equal(await store.expireMailbox(30), 0);
      assert.equal(await store.deposit(item('d', 'w', 996), ['d'], limits), 'stored', 'the running total lost the expired bytes');
      assert.equal(await store.deposit(item('e', 'w', 1), ['d'], { user: 2000, total: 1000 }), 'full');
    });

    test('the hourly limits: a key takes its allowance at once, then one more per share of the hour', async () => {
      const rates = serverRates({ ...DEFAULT_LIMITS, codesPerUserPerHour: 4, accountsPerHour: 0 }, store.rateBuckets);
      for (let i = 0; i < 4; i++) assert.ok(await rates.codesByUser.take('a', 0), `take ${i}`);
      assert.equal(await rates.codesByUser.take('a', 0), false);
      assert.equal(await rates.codesByUser.take('a', HOUR / 4 - 1), false, 'not quite a quarter of an hour later');
      assert.ok(await rates.codesByUser.take('a', HOUR / 4), 'a quarter of an hour later');
      assert.equal(await rates.codesByUser.take('a', HOUR / 4), false);
      assert.ok(await rates.codesByUser.take('b', HOUR / 4), 'keys are limited apart');
      assert.ok(await rates.accountsByAddress.take('a', HOUR / 4), 'limits are kept apart');
      assert.equal(await rates.accounts.take('', 0), false, 'an allowance of none');
      for (let i = 0; i < 4; i++) assert.ok(await rates.codesByUser.take('a', 100 * HOUR), `an idle key refills to its allowance: ${i}`);
      assert.equal(await rates.codesByUser.take('a', 100 * HOUR), false, 'and no further');
    });

    test('health answers while the database does, and says so when it does not', async () => {
      await store.health();
      await engine.silence();
      await assert.rejects(store.health(), /does not answer/);
    });

    test('a second handle sees what the first stored', async () => {
      const other = await engine.peer();
      await store.createUser({ id: id('alice'), name: 'Alice' }, device('laptop'), 1);
      assert.deepEqual(await other.user(id('alice')), { id: id('alice'), name: 'Alice' });
      await other.deposit(item('x', 'u', 5), ['d'], { user: 10, total: 10 });
      assert.deepEqual(await store.pendingFor('d', 1), [{ id: 'x', sender: 'u-device', bytes: 5 }]);
    });

    // Two handles on one database are what two server processes have; each case runs its
    // calls from both at once, several times.
    describe('concurrent calls from two handles', () => {
      let other: ServerStore;
      beforeEach(async () => {
        other = await engine.peer();
      });

      test('a token taken from both at once goes to exactly one', async () => {
        for (let i = 0; i < 20; i++) await store.putToken(`t${i}`, 'link', 'u', 1000);
        const takes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => [store, other].map((s) => s.takeToken(`t${i}`, 'link', 10))).flat(),
        );
        for (let i = 0; i < 20; i++) {
          assert.deepEqual(
            [takes[2 * i], takes[2 * i + 1]].filter((t) => t !== undefined),
            ['u'],
            `token ${i}`,
          );
        }
        assert.equal(await store.liveTokens('u', 10), 0);
      });

      test('the same version of a space written from both at once is stored once', async () => {
        for (let version = 1; version <= 10; version++) {
          const mine = spaceDoc('s', version, ['alice', 'bob']);
          const theirs = spaceDoc('s', version, ['alice', 'carol']);
          const [a, b] = await Promise.all([
            store.putSpace(mine, statuses({ alice: 'joined', bob: 'invited' })),
            other.putSpace(theirs, statuses({ alice: 'joined', carol: 'invited' })),
          ]);
          assert.equal(Number(a) + Number(b), 1, `version ${version}: one write wins`);
          const stored = await store.space(id('s'));
          assert.deepEqual(stored?.doc, a ? mine : theirs);
          assert.deepEqual(Object.keys(stored?.status ?? {}).sort(), [id('alice'), id(a ? 'bob' : 'carol')].sort(), 'its members');
        }
      });

      test("deposits from both at once hold the sender's quota and the mailbox's cap", async () => {
        const quota = { user: 55, total: 10_000 };
        const byOne = await Promise.all(
          Array.from({ length: 20 }, (_, i) => [store, other][i % 2]!.deposit(item(`q${i}`, 'u', 10), ['d'], quota)),
        );
        assert.equal(byOne.filter((r) => r === 'stored').length, 5);
        assert.equal(byOne.filter((r) => r === 'quota').length, 15);

        const cap = { user: 1000, total: 50 + 75 };
        const byMany = await Promise.all(
          Array.from({ length: 20 }, (_, i) => [store, other][i % 2]!.deposit(item(`c${i}`, `sender${i}`, 10), ['d'], cap)),
        );
        assert.equal(byMany.filter((r) => r === 'stored').length, 7);
        assert.equal(byMany.filter((r) => r === 'full').length, 13);
        assert.deepEqual(await other.mailboxTotals(), { items: 12, bytes: 120 });
      });

      test('one item deposited from both at once is stored once', async () => {
        const results = await Promise.all(
          [store, other, store, other].map((s) => s.deposit(item('same', 'u', 10), ['d'], { user: 15, total: 15 })),
        );
        assert.deepEqual(results, ['stored', 'stored', 'stored', 'stored']);
        assert.deepEqual(await store.mailboxTotals(), { items: 1, bytes: 10 });
      });

      test('an item whose last two recipients acknowledge it at once is deleted', async () => {
        const limits = { user: 10_000, total: 10_000 };
        for (let i = 0; i < 20; i++) await store.deposit(item(`i${i}`, 'u', 10), ['d1', 'd2'], limits);
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => [store.acknowledge('d1', [`i${i}`]), other.acknowledge('d2', [`i${i}`])]).flat(),
        );
        assert.deepEqual(await store.mailboxTotals(), { items: 0, bytes: 0 });
        assert.equal(await store.deposit(item('after', 'u', 10_000), ['d'], limits), 'stored', 'the running total is back to nothing');
      });
    });
  });
}

describe('PostgresStore shared by several processes', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => db.drop());

  async function select<T>(sql: string): Promise<T[]> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<T & object>(sql)).rows;
    } finally {
      await client.end();
    }
  }
  const recorded = async (): Promise<number[]> =>
    (await select<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);
  const buckets = async (): Promise<string[]> =>
    (await select<{ key: string }>('SELECT key FROM rate_buckets ORDER BY key')).map((r) => r.key);

  test('three processes starting at once migrate once, and a later start changes nothing', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(db.url)));
    const all = MIGRATIONS.map((_, i) => i + 1);
    assert.deepEqual(await recorded(), all);
    await stores[0]!.createUser({ id: id('alice'), name: 'Alice' }, device('laptop'), 1);
    const again = await PostgresStore.open(db.url);
    assert.deepEqual(await recorded(), all);
    assert.deepEqual(await again.user(id('alice')), { id: id('alice'), name: 'Alice' }, 'the data is kept');
    for (const s of [...stores, again]) await s.close();
  });

  test('the hourly limits hold across processes', async () => {
    const [one, two] = await Promise.all([PostgresStore.open(db.url), PostgresStore.open(db.url)]);
    const limits = { ...DEFAULT_LIMITS, codesPerUserPerHour: 5 };
    const mine = serverRates(limits, one!.rateBuckets);
    const theirs = serverRates(limits, two!.rateBuckets);
    const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? mine : theirs).codesByUser.take('u', 0)));
    assert.equal(takes.filter(Boolean).length, 5);
    assert.ok(await theirs.codesByUser.take('u', HOUR / 5), 'refilled for both');
    assert.equal(await mine.codesByUser.take('u', HOUR / 5), false);
    assert.ok(await mine.codesByUser.take('v', HOUR / 5), 'another key has its own');
    await one!.close();
    await two!.close();
  });

  test('a process whose clock is behind earns no extra refill, and idle buckets are dropped', async () => {
    const store = await PostgresStore.open(db.url);
    const rates = serverRates({ ...DEFAULT_LIMITS, codesPerUserPerHour: 2 }, store.rateBuckets);
    assert.ok(await rates.codesByUser.take('a', HOUR));
    assert.ok(await rates.codesByUser.take('a', HOUR));
    assert.equal(await rates.codesByUser.take('a', HOUR / 2), false, 'half an hour behind');
    assert.equal(await rates.codesByUser.take('a', HOUR + HOUR / 2 - 1), false, 'the refill still counts from the latest take');
    assert.ok(await rates.codesByUser.take('a', HOUR + HOUR / 2));
    assert.deepEqual(await buckets(), ['a']);
    assert.ok(await rates.codesByUser.take('b', 3 * HOUR));
    assert.deepEqual(await buckets(), ['b'], "a's bucket, idle for over an hour, is gone");
    assert.ok(await rates.codesByUser.take('a', 3 * HOUR));
    assert.ok(await rates.codesByUser.take('a', 3 * HOUR), 'and a full one in its place');
    assert.equal(await rates.codesByUser.take('a', 3 * HOUR), false);
    await store.close();
  });

  test('a database migrated by a newer server is refused with the reason', async () => {
    await (await PostgresStore.open(db.url)).close();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query('INSERT INTO schema_migrations (version, applied) VALUES ($1, 0)', [MIGRATIONS.length + 1]);
    await client.end();
    await assert.rejects(PostgresStore.open(db.url), /newer than this server knows/);
  });

  test('a database that cannot be reached is refused with the reason', async () => {
    const url = new URL(db.url);
    url.pathname = '/sf_test_no_such_database';
    await assert.rejects(PostgresStore.open(url.toString()), /cannot open the PostgreSQL store .*sf_test_no_such_database/);
  });
});
