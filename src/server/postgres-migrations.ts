import type { Pool, PoolClient } from 'pg';

/** The transaction lock deposits take in turn. */
const DEPOSIT_LOCK = 0x5346_0002;

/**
 * Stores a mailbox item unless it would take its sender past `user_limit` pending bytes
 * ('quota') or the mailbox past `total_limit` ('full'); an item id already stored counts as
 * done. Deposits of every process take one transaction lock in turn, so each checks against
 * what all earlier ones stored: in a VOLATILE function under READ COMMITTED each statement sees
 * what was committed before it began. One function, so the lock is held for no round trip.
 */
const DEPOSIT = `
  CREATE FUNCTION mailbox_deposit(
    item_id TEXT, item_sender TEXT, item_sender_user TEXT, item_payload BYTEA, item_created BIGINT,
    item_recipients TEXT[], user_limit BIGINT, total_limit BIGINT) RETURNS TEXT VOLATILE LANGUAGE plpgsql AS $$
  DECLARE
    size INTEGER := length(item_payload);
  BEGIN
    PERFORM pg_advisory_xact_lock(${DEPOSIT_LOCK});
    IF EXISTS (SELECT 1 FROM mailbox WHERE id = item_id) THEN RETURN 'stored'; END IF;
    IF (SELECT COALESCE(SUM(bytes), 0) FROM mailbox WHERE sender_user = item_sender_user) + size > user_limit THEN
      RETURN 'quota';
    END IF;
    IF (SELECT bytes FROM mailbox_total) + size > total_limit THEN RETURN 'full'; END IF;
    INSERT INTO mailbox (id, sender, sender_user, payload, bytes, created)
      VALUES (item_id, item_sender, item_sender_user, item_payload, size, item_created);
    UPDATE mailbox_total SET bytes = bytes + size;
    INSERT INTO recipients (item, device) SELECT item_id, unnest(item_recipients) ON CONFLICT DO NOTHING;
    RETURN 'stored';
  END $$;`;

/**
 * The PostgreSQL schema, as ordered steps: step i (from 1) is recorded in `schema_migrations`
 * once applied, so a database is brought up to date by the steps it lacks. Append steps; never
 * edit one that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, created BIGINT NOT NULL);
  CREATE TABLE devices (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
    sign_public TEXT NOT NULL, agree_public TEXT NOT NULL, created BIGINT NOT NULL, endorsement TEXT);
  CREATE INDEX devices_user ON devices(user_id);
  CREATE TABLE tokens (token TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL, expires BIGINT NOT NULL);
  CREATE INDEX tokens_user ON tokens(user_id);
  CREATE TABLE contacts (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
  CREATE TABLE spaces (id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL);
  CREATE TABLE members (space TEXT NOT NULL, user_id TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (space, user_id));
  CREATE INDEX members_user ON members(user_id);
  CREATE TABLE vectors (space TEXT NOT NULL, device TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (space, device));
  CREATE TABLE mailbox (
    id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, sender TEXT NOT NULL, sender_user TEXT NOT NULL,
    payload BYTEA NOT NULL, bytes INTEGER NOT NULL, created BIGINT NOT NULL);
  CREATE INDEX mailbox_sender_user ON mailbox(sender_user);
  CREATE INDEX mailbox_created ON mailbox(created);
  CREATE TABLE recipients (item TEXT NOT NULL, device TEXT NOT NULL, PRIMARY KEY (item, device));
  CREATE INDEX recipients_device ON recipients(device);
  CREATE TABLE mailbox_total (one INTEGER PRIMARY KEY CHECK (one = 1), bytes BIGINT NOT NULL);
  INSERT INTO mailbox_total (one, bytes) VALUES (1, 0);
  CREATE TABLE rate_buckets (
    name TEXT NOT NULL, key TEXT NOT NULL, tokens DOUBLE PRECISION NOT NULL, last BIGINT NOT NULL, granted BOOLEAN NOT NULL,
    PRIMARY KEY (name, key));
  CREATE INDEX rate_buckets_last ON rate_buckets(last);
  ${DEPOSIT}
  `,
];

/** The advisory lock every process starting on the database takes to migrate one at a time. */
const MIGRATION_LOCK = 0x5346_0001;

/**
 * Applies the steps the database lacks, each in its own transaction with its record. Processes
 * starting at once wait for each other on an advisory lock, so each step runs once; on an
 * up-to-date database this only reads the record.
 */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  // A connection that might still hold the lock is closed rather than pooled: closing frees it.
  let unlocked = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await applyMissing(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(
        () => (unlocked = true),
        () => undefined,
      );
    }
  } finally {
    client.release(!unlocked);
  }
}

async function applyMissing(client: PoolClient): Promise<void> {
  await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)');
  const { rows } = await client.query<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
  const done = rows[0]?.version ?? 0;
  if (done > MIGRATIONS.length) {
    throw new Error(`the database's schema is at version ${done}, newer than this server knows (${MIGRATIONS.length}): run a newer server`);
  }
  for (let version = done + 1; version <= MIGRATIONS.length; version++) {
    await client.query('BEGIN');
    try {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)', [version, Date.now()]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
