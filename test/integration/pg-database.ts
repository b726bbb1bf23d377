import * as crypto from 'node:crypto';
import { Client } from 'pg';

/**
 * Throwaway PostgreSQL databases for tests and benchmarks: each run makes its own, named
 * `sf_test_<random>`, and drops it afterwards, so runs never see each other's data. The server
 * is the machine's PostgreSQL (127.0.0.1:5432, trust auth) unless SF_TEST_POSTGRES names another
 * (a URL of any database there; databases are made beside it).
 */

export const POSTGRES_ADMIN_URL = process.env['SF_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The machine's NATS unless SF_TEST_NATS names another. */
export const NATS_URL = process.env['SF_TEST_NATS'] ?? 'nats://127.0.0.1:4222';

export interface TestDatabase {
  readonly name: string;
  /** The database's URL, as `--database` takes it. */
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sf_test_${crypto.randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `cannot reach PostgreSQL at ${POSTGRES_ADMIN_URL} (${(err as Error).message}): the cluster tests need a running PostgreSQL 15 with trust auth, or SF_TEST_POSTGRES set to one`,
      { cause: err },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
