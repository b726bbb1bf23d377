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
