import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../src/server/sqlite-store';
import type { MailboxItem } from '../../../src/server/server-store';

function item(id: string, senderUser: string, bytes: number, created = 0): MailboxItem {
  return { id, sender: `${senderUser}-device`, senderUser, payload: new Uint8Array(bytes), created };
}

async function withStore(run: (store: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-store-'));
  const store = SqliteStore.open(dir);
  try {
    await run(store, dir);
  } finally {
    await store.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a deposit is refused past the sender's quota ('quota') and past the whole mailbox's cap ('full')", async () => {
  await withStore(async (store) => {
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
});

test('the running total of a store made before it existed starts from the items it holds', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-store-'));
  try {
    const first = SqliteStore.open(dir);
    assert.equal(await first.deposit(item('1', 'u', 60), ['d'], { user: 1000, total: 1000 }), 'stored');
    await first.close();
    const db = new Database(nodePath.join(dir, 'server.sqlite'));
    db.exec('DROP TRIGGER mailbox_total_insert; DROP TRIGGER mailbox_total_delete; DROP TABLE mailbox_total;');
    db.close();
    const reopened = SqliteStore.open(dir);
    assert.equal(await reopened.deposit(item('2', 'v', 50), ['d'], { user: 1000, total: 100 }), 'full');
    assert.equal(await reopened.deposit(item('3', 'v', 40), ['d'], { user: 1000, total: 100 }), 'stored');
    await reopened.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('live tokens are the unexpired ones of that user', async () => {
  await withStore(async (store) => {
    await store.putToken('a', 'invite', 'u', 100);
    await store.putToken('b', 'link', 'u', 200);
    await store.putToken('c', 'invite', 'v', 200);
    assert.equal(await store.liveTokens('u', 50), 2);
    assert.equal(await store.liveTokens('u', 150), 1);
    await store.takeToken('b', 'link', 150);
    assert.equal(await store.liveTokens('u', 150), 0);
  });
});
