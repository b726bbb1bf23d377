import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import type { DeviceInfo, MemberStatus, SpaceDoc } from '../sync/protocol/rendezvous';
import { parseSpaceDoc } from '../sync/protocol/rendezvous';
import { deviceOf, type DeviceRow as StoredDevice } from './device-row';
import { migrate } from './postgres-migrations';
import { PostgresRateBuckets } from './postgres-rate-buckets';
import type { RateBuckets } from './server-rates';
import type { DepositResult, MailboxHeader, MailboxItem, ServerStore, TokenKind } from './server-store';

/** Connections per process: every method holds one for a single short transaction. */
const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * The store of a cluster: one PostgreSQL database shared by every server process. It behaves as
 * SqliteStore does, and stays right when several processes call it at once: each method is one
 * transaction, and one that checks before it writes either does both in one statement or holds
 * a lock on what it checked (the rows it read; for deposits, a lock every deposit takes).
 */
export class PostgresStore implements ServerStore {
  /** The rate limits are kept here too, so that they hold across the cluster. */
  readonly rateBuckets: RateBuckets;

  private constructor(
    private readonly pool: Pool,
    private readonly where: string,
  ) {
    this.rateBuckets = new PostgresRateBuckets(pool);
  }

  /** Connects and brings the schema up to date (safe when several processes start at once). */
  static async open(url: string): Promise<PostgresStore> {
    const where = describe(url);
    const pool = new Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection that the database drops is discarded by the pool, which connects anew
    // for the next query; without a listener its error would end the process.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the PostgreSQL store ${where}: ${(err as Error).message}`, { cause: err });
    }
    return new PostgresStore(pool, where);
  }

  async health(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
    });
    const answer = this.pool.query('SELECT 1');
    answer.catch(() => undefined); // when it fails after the timeout, nobody awaits it
    try {
      await Promise.race([answer, late]);
    } catch (err) {
      throw new Error(`the PostgreSQL store ${this.where} does not answer: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async createUser(user: { id: string; name: string }, device: DeviceInfo, now: number): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('INSERT INTO users (id, name, created) VALUES ($1, $2, $3)', [user.id, user.name, now]);
      await insertDevice(c, user.id, device, now);
    });
  }

  async addDevice(user: string, device: DeviceInfo, now: number): Promise<void> {
    await insertDevice(this.pool, user, device, now);
  }

  async device(id: string): Promise<(DeviceInfo & { user: string }) | undefined> {
    const { rows } = await this.pool.query<DeviceRow>(
      'SELECT id, user_id, sign_public, agree_public, endorsement FROM devices WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row && { ...deviceOf(row), user: row.user_id };
  }

  async user(id: string): Promise<{ id: string; name: string } | undefined> {
    const { rows } = await this.pool.query<{ id: string; name: string }>('SELECT id, name FROM users WHERE id = $1', [id]);
    return rows[0];
  }

  async devicesOf(user: string): Promise<DeviceInfo[]> {
    const { rows } = await this.pool.query<DeviceRow>(
      'SELECT id, user_id, sign_public, agree_public, endorsement FROM devices WHERE user_id = $1 ORDER BY created, id',
      [user],
    );
    return rows.map(deviceOf);
  }

  async putToken(token: string, kind: TokenKind, user: string, expires: number): Promise<void> {
    await this.pool.query('INSERT INTO tokens (token, kind, user_id, expires) VALUES ($1, $2, $3, $4)', [token, kind, user, expires]);
  }

  async liveTokens(user: string, now: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM tokens WHERE user_id = $1 AND expires >= $2', [
      user,
      now,
    ]);
    return Number(rows[0]!.n);
  }

  async takeToken(token: string, kind: TokenKind, now: number, keepFor?: string): Promise<string | undefined> {
    return this.transaction(async (c) => {
      // The row lock makes a concurrent take of the same token wait, then find it gone.
      const { rows } = await c.query<{ user_id: string; kind: string; expires: string }>(
        'SELECT user_id, kind, expires FROM tokens WHERE token = $1 FOR UPDATE',
        [token],
      );
      const row = rows[0];
      if (!row || row.kind !== kind) return undefined;
      const live = Number(row.expires) >= now;
      if (row.user_id === keepFor) return live ? row.user_id : undefined;
      await c.query('DELETE FROM tokens WHERE token = $1', [token]);
      await c.query('DELETE FROM tokens WHERE expires < $1', [now]);
      return live ? row.user_id : undefined;
    });
  }

  async addContact(a: string, b: string): Promise<void> {
    await this.pool.query('INSERT INTO contacts (a, b) VALUES ($1, $2), ($2, $1) ON CONFLICT DO NOTHING', [a, b]);
  }

  async removeContact(a: string, b: string): Promise<void> {
    await this.pool.query('DELETE FROM contacts WHERE (a = $1 AND b = $2) OR (a = $2 AND b = $1)', [a, b]);
  }

  async contactsOf(user: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ b: string }>('SELECT b FROM contacts WHERE a = $1 ORDER BY b', [user]);
    return rows.map((r) => r.b);
  }

  async putSpace(doc: SpaceDoc, statuses: ReadonlyMap<string, MemberStatus>): Promise<boolean> {
    return this.transaction(async (c) => {
      // One statement checks the version and writes, so of two processes writing the same
      // version one waits for the other's row and then finds the version taken.
      const written =
        doc.version === 1
          ? await c.query('INSERT INTO spaces (id, version, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
              doc.id,
              doc.version,
              JSON.stringify(doc),
            ])
          : await c.query('UPDATE spaces SET version = $2, doc = $3 WHERE id = $1 AND version = $2 - 1', [
              doc.id,
              doc.version,
              JSON.stringify(doc),
            ]);
      if (written.rowCount !== 1) return false;
      await c.query('DELETE FROM members WHERE space = $1', [doc.id]);
      await c.query('INSERT INTO members (space, user_id, status) SELECT $1, * FROM unnest($2::text[], $3::text[])', [
        doc.id,
        [...statuses.keys()],
        [...statuses.values()],
      ]);
      return true;
    });
  }

  async space(id: string): Promise<{ doc: SpaceDoc; status: Record<string, MemberStatus> } | undefined> {
    return this.transaction(async (c) => {
      const { rows } = await c.query<{ doc: string }>('SELECT doc FROM spaces WHERE id = $1', [id]);
      if (!rows[0]) return undefined;
      const members = await c.query<{ user_id: string; status: MemberStatus }>(
        'SELECT user_id, status FROM members WHERE space = $1 ORDER BY user_id',
        [id],
      );
      const status: Record<string, MemberStatus> = {};
      for (const m of members.rows) status[m.user_id] = m.status;
      return { doc: parseSpaceDoc(JSON.parse(rows[0].doc)), status };
    }, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  }

  async setMemberStatus(space: string, user: string, status: MemberStatus): Promise<void> {
    await this.pool.query('UPDATE members SET status = $1 WHERE space = $2 AND user_id = $3', [status, space, user]);
  }

  async spacesOf(user: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ space: string }>('SELECT space FROM members WHERE user_id = $1 ORDER BY space', [user]);
    return rows.map((r) => r.space);
  }

  async putVector(space: string, device: string, hash: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO vectors (space, device, hash) VALUES ($1, $2, $3) ON CONFLICT (space, device) DO UPDATE SET hash = EXCLUDED.hash',
      [space, device, hash],
    );
  }

  async vectors(space: string): Promise<{ device: string; hash: string }[]> {
    const { rows } = await this.pool.query<{ device: string; hash: string }>(
      'SELECT device, hash FROM vectors WHERE space = $1 ORDER BY device',
      [space],
    );
    return rows;
  }

  async deposit(item: MailboxItem, recipients: readonly string[], limits: { user: number; total: number }): Promise<DepositResult> {
    const { rows } = await this.pool.query<{ result: DepositResult }>('SELECT mailbox_deposit($1, $2, $3, $4, $5, $6, $7, $8) AS result', [
      item.id,
      item.sender,
      item.senderUser,
      Buffer.from(item.payload.buffer, item.payload.byteOffset, item.payload.byteLength),
      item.created,
      recipients,
      limits.user,
      limits.total,
    ]);
    return rows[0]!.result;
  }

  async pendingFor(device: string, limit: number): Promise<MailboxHeader[]> {
    const { rows } = await this.pool.query<MailboxHeader>(
      'SELECT m.id, m.sender, m.bytes FROM recipients r JOIN mailbox m ON m.id = r.item WHERE r.device = $1 ORDER BY m.created, m.seq LIMIT $2',
      [device, limit],
    );
    return rows;
  }

  async mailboxPayload(item: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ payload: Buffer }>('SELECT payload FROM mailbox WHERE id = $1', [item]);
    const payload = rows[0]?.payload;
    return payload ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) : undefined;
  }

  async acknowledge(device: string, items: readonly string[]): Promise<void> {
    if (items.length === 0) return;
    await this.transaction(async (c) => {
      // Locking the items first (in one order, as expireMailbox does) makes the last two
      // recipients acknowledging at once take turns, so the second sees the first's ack and
      // deletes the item rather than each leaving it to the other.
      await c.query('SELECT id FROM mailbox WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [items]);
      await c.query('DELETE FROM recipients WHERE device = $1 AND item = ANY($2::text[])', [device, items]);
      await this.deleteItems(c, 'id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.item = mailbox.id)', [items]);
    });
  }

  async mailboxTotals(): Promise<{ items: number; bytes: number }> {
    const { rows } = await this.pool.query<{ items: string; bytes: string }>(
      'SELECT COUNT(*) AS items, COALESCE(SUM(bytes), 0) AS bytes FROM mailbox',
    );
    return { items: Number(rows[0]!.items), bytes: Number(rows[0]!.bytes) };
  }

  async expireMailbox(before: number): Promise<number> {
    return this.transaction(async (c) => {
      await c.query('SELECT id FROM mailbox WHERE created < $1 ORDER BY id FOR UPDATE', [before]);
      await c.query('DELETE FROM recipients WHERE item IN (SELECT id FROM mailbox WHERE created < $1)', [before]);
      return this.deleteItems(c, 'created < $1', [before]);
    });
  }

  /** Deletes the items matching `where` and takes their bytes off the running total; how many. */
  private async deleteItems(c: PoolClient, where: string, values: unknown[]): Promise<number> {
    const { rows } = await c.query<{ items: string; bytes: string }>(
      `WITH gone AS (DELETE FROM mailbox WHERE ${where} RETURNING bytes),
            total AS (UPDATE mailbox_total SET bytes = bytes - (SELECT COALESCE(SUM(bytes), 0) FROM gone))
       SELECT COUNT(*) AS items FROM gone`,
      values,
    );
    return Number(rows[0]!.items);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Runs `work` in one transaction on one connection, rolled back when it throws. `first` (SQL
   * without parameters) is sent with the BEGIN, saving a round trip.
   */
  private async transaction<T>(work: (c: PoolClient) => Promise<T>, first?: string): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(first ? `BEGIN; ${first}` : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** `url` without its password, to name the database in errors and logs. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

async function insertDevice(db: Pool | PoolClient, user: string, device: DeviceInfo, now: number): Promise<void> {
  await db.query('INSERT INTO devices (id, user_id, sign_public, agree_public, created, endorsement) VALUES ($1, $2, $3, $4, $5, $6)', [
    device.id,
    user,
    device.signPublic,
    device.agreePublic,
    now,
    device.endorsement ? JSON.stringify(device.endorsement) : null,
  ]);
}

interface DeviceRow extends StoredDevice {
  user_id: string;
}
