import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { DeviceInfo, MemberStatus, SpaceDoc } from '../sync/protocol/rendezvous';
import { parseSpaceDoc } from '../sync/protocol/rendezvous';
import { deviceOf, type DeviceRow as StoredDevice } from './device-row';
import type { DepositResult, MailboxHeader, MailboxItem, ServerStore, TokenKind } from './server-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id),
  sign_public TEXT NOT NULL, agree_public TEXT NOT NULL, created INTEGER NOT NULL, endorsement TEXT);
CREATE INDEX IF NOT EXISTS devices_user ON devices(user);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, kind TEXT NOT NULL, user TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
CREATE TABLE IF NOT EXISTS spaces (id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (space TEXT NOT NULL, user TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (space, user));
CREATE INDEX IF NOT EXISTS members_user ON members(user);
CREATE TABLE IF NOT EXISTS vectors (space TEXT NOT NULL, device TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (space, device));
CREATE TABLE IF NOT EXISTS mailbox (
  id TEXT PRIMARY KEY, sender TEXT NOT NULL, sender_user TEXT NOT NULL,
  payload BLOB NOT NULL, bytes INTEGER NOT NULL, created INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS mailbox_sender_user ON mailbox(sender_user);
CREATE TABLE IF NOT EXISTS recipients (item TEXT NOT NULL, device TEXT NOT NULL, PRIMARY KEY (item, device));
CREATE INDEX IF NOT EXISTS recipients_device ON recipients(device);
CREATE TABLE IF NOT EXISTS mailbox_total (one INTEGER PRIMARY KEY CHECK (one = 1), bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO mailbox_total (one, bytes) SELECT 1, COALESCE(SUM(bytes), 0) FROM mailbox;
CREATE TRIGGER IF NOT EXISTS mailbox_total_insert AFTER INSERT ON mailbox
  BEGIN UPDATE mailbox_total SET bytes = bytes + NEW.bytes; END;
CREATE TRIGGER IF NOT EXISTS mailbox_total_delete AFTER DELETE ON mailbox
  BEGIN UPDATE mailbox_total SET bytes = bytes - OLD.bytes; END;
`;

/** The embedded store: one SQLite file in the server's data folder, in WAL mode. */
export class SqliteStore implements ServerStore {
  private readonly db: Database.Database;

  private constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    // Stores made before devices carried endorsements.
    const columns = this.db.prepare('PRAGMA table_info(devices)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'endorsement')) this.db.exec('ALTER TABLE devices ADD COLUMN endorsement TEXT');
  }

  static open(dataDir: string): SqliteStore {
    fs.mkdirSync(dataDir, { recursive: true });
    return new SqliteStore(nodePath.join(dataDir, 'server.sqlite'));
  }

  async createUser(user: { id: string; name: string }, device: DeviceInfo, now: number): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO users (id, name, created) VALUES (?, ?, ?)').run(user.id, user.name, now);
      this.insertDevice(user.id, device, now);
    })();
  }

  async addDevice(user: string, device: DeviceInfo, now: number): Promise<void> {
    this.insertDevice(user, device, now);
  }

  private insertDevice(user: string, device: DeviceInfo, now: number): void {
    this.db
      .prepare('INSERT INTO devices (id, user, sign_public, agree_public, created, endorsement) VALUES (?, ?, ?, ?, ?, ?)')
      .run(device.id, user, device.signPublic, device.agreePublic, now, device.endorsement ? JSON.stringify(device.endorsement) : null);
  }

  async device(id: string): Promise<(DeviceInfo & { user: string }) | undefined> {
    const row = this.db.prepare('SELECT id, user, sign_public, agree_public, endorsement FROM devices WHERE id = ?').get(id) as
      DeviceRow | undefined;
    return row && { ...deviceOf(row), user: row.user };
  }

  async user(id: string): Promise<{ id: string; name: string } | undefined> {
    return this.db.prepare('SELECT id, name FROM users WHERE id = ?').get(id) as { id: string; name: string } | undefined;
  }

  async devicesOf(user: string): Promise<DeviceInfo[]> {
    const rows = this.db
      .prepare('SELECT id, user, sign_public, agree_public, endorsement FROM devices WHERE user = ? ORDER BY created, id')
      .all(user) as DeviceRow[];
    return rows.map(deviceOf);
  }

  async putToken(token: string, kind: TokenKind, user: string, expires: number): Promise<void> {
    this.db.prepare('INSERT INTO tokens (token, kind, user, expires) VALUES (?, ?, ?, ?)').run(token, kind, user, expires);
  }

  async liveTokens(user: string, now: number): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens WHERE user = ? AND expires >= ?').get(user, now) as { n: number }).n;
  }

  async takeToken(token: string, kind: TokenKind, now: number, keepFor?: string): Promise<string | undefined> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT user, kind, expires FROM tokens WHERE token = ?').get(token) as
        { user: string; kind: string; expires: number } | undefined;
      if (!row || row.kind !== kind) return undefined;
      if (row.user === keepFor) return row.expires >= now ? row.user : undefined;
      this.db.prepare('DELETE FROM tokens WHERE token = ?').run(token);
      this.db.prepare('DELETE FROM tokens WHERE expires < ?').run(now);
      return row.expires >= now ? row.user : undefined;
    })();
  }

  async addContact(a: string, b: string): Promise<void> {
    const insert = this.db.prepare('INSERT OR IGNORE INTO contacts (a, b) VALUES (?, ?)');
    this.db.transaction(() => {
      insert.run(a, b);
      insert.run(b, a);
    })();
  }

  async removeContact(a: string, b: string): Promise<void> {
    this.db.prepare('DELETE FROM contacts WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)').run(a, b, b, a);
  }

  async contactsOf(user: string): Promise<string[]> {
    return (this.db.prepare('SELECT b FROM contacts WHERE a = ? ORDER BY b').all(user) as { b: string }[]).map((r) => r.b);
  }

  async putSpace(doc: SpaceDoc, statuses: ReadonlyMap<string, MemberStatus>): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT version FROM spaces WHERE id = ?').get(doc.id) as { version: number } | undefined;
      if ((row?.version ?? 0) !== doc.version - 1) return false;
      this.db.prepare('INSERT OR REPLACE INTO spaces (id, version, doc) VALUES (?, ?, ?)').run(doc.id, doc.version, JSON.stringify(doc));
      this.db.prepare('DELETE FROM members WHERE space = ?').run(doc.id);
      const insert = this.db.prepare('INSERT INTO members (space, user, status) VALUES (?, ?, ?)');
      for (const [user, status] of statuses) insert.run(doc.id, user, status);
      return true;
    })();
  }

  async space(id: string): Promise<{ doc: SpaceDoc; status: Record<string, MemberStatus> } | undefined> {
    const row = this.db.prepare('SELECT doc FROM spaces WHERE id = ?').get(id) as { doc: string } | undefined;
    if (!row) return undefined;
    const status: Record<string, MemberStatus> = {};
    for (const m of this.db.prepare('SELECT user, status FROM members WHERE space = ?').all(id) as {
      user: string;
      status: MemberStatus;
    }[]) {
      status[m.user] = m.status;
    }
    return { doc: parseSpaceDoc(JSON.parse(row.doc)), status };
  }

  async setMemberStatus(space: string, user: string, status: MemberStatus): Promise<void> {
    this.db.prepare('UPDATE members SET status = ? WHERE space = ? AND user = ?').run(status, space, user);
  }

  async spacesOf(user: string): Promise<string[]> {
    return (this.db.prepare('SELECT space FROM members WHERE user = ? ORDER BY space').all(user) as { space: string }[]).map(
      (r) => r.space,
    );
  }

  async putVector(space: string, device: string, hash: string): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO vectors (space, device, hash) VALUES (?, ?, ?)').run(space, device, hash);
  }

  async vectors(space: string): Promise<{ device: string; hash: string }[]> {
    return this.db.prepare('SELECT device, hash FROM vectors WHERE space = ? ORDER BY device').all(space) as {
      device: string;
      hash: string;
    }[];
  }

  async deposit(item: MailboxItem, recipients: readonly string[], limits: { user: number; total: number }): Promise<DepositResult> {
    return this.db.transaction((): DepositResult => {
      if (this.db.prepare('SELECT 1 FROM mailbox WHERE id = ?').get(item.id)) return 'stored';
      const used = (
        this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS n FROM mailbox WHERE sender_user = ?').get(item.senderUser) as { n: number }
      ).n;
      if (used + item.payload.length > limits.user) return 'quota';
      const total = (this.db.prepare('SELECT bytes FROM mailbox_total').get() as { bytes: number }).bytes;
      if (total + item.payload.length > limits.total) return 'full';
      this.db
        .prepare('INSERT INTO mailbox (id, sender, sender_user, payload, bytes, created) VALUES (?, ?, ?, ?, ?, ?)')
        .run(item.id, item.sender, item.senderUser, item.payload, item.payload.length, item.created);
      const insert = this.db.prepare('INSERT OR IGNORE INTO recipients (item, device) VALUES (?, ?)');
      for (const device of recipients) insert.run(item.id, device);
      return 'stored';
    })();
  }

  async pendingFor(device: string, limit: number): Promise<MailboxHeader[]> {
    return this.db
      .prepare(
        'SELECT m.id, m.sender, m.bytes FROM recipients r JOIN mailbox m ON m.id = r.item WHERE r.device = ? ORDER BY m.created, m.rowid LIMIT ?',
      )
      .all(device, limit) as MailboxHeader[];
  }

  async mailboxPayload(item: string): Promise<Uint8Array | undefined> {
    const row = this.db.prepare('SELECT payload FROM mailbox WHERE id = ?').get(item) as { payload: Buffer } | undefined;
    return row ? new Uint8Array(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength) : undefined;
  }

  async acknowledge(device: string, items: readonly string[]): Promise<void> {
    const drop = this.db.prepare('DELETE FROM recipients WHERE item = ? AND device = ?');
    const orphan = this.db.prepare('DELETE FROM mailbox WHERE id = ? AND NOT EXISTS (SELECT 1 FROM recipients WHERE item = ?)');
    this.db.transaction(() => {
      for (const item of items) {
        drop.run(item, device);
        orphan.run(item, item);
      }
    })();
  }

  async mailboxTotals(): Promise<{ items: number; bytes: number }> {
    return this.db.prepare('SELECT COUNT(*) AS items, COALESCE(SUM(bytes), 0) AS bytes FROM mailbox').get() as {
      items: number;
      bytes: number;
    };
  }

  async expireMailbox(before: number): Promise<number> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM recipients WHERE item IN (SELECT id FROM mailbox WHERE created < ?)').run(before);
      return this.db.prepare('DELETE FROM mailbox WHERE created < ?').run(before).changes;
    })();
  }

  async health(): Promise<void> {
    try {
      this.db.prepare('SELECT 1').get();
    } catch (err) {
      throw new Error(`the SQLite store ${this.db.name} does not answer: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

interface DeviceRow extends StoredDevice {
  user: string;
}
