import * as fs from 'node:fs';
import * as os from 'node:os';
import { connect } from 'nats';
import { Client } from 'pg';
import { NATS_URL, POSTGRES_ADMIN_URL } from '../test/integration/pg-database';

/** What the figures were measured on: cores, memory, Node, and the versions of PostgreSQL and NATS. */
export async function describeMachine(): Promise<string> {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memory = `${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB`;
  return [
    `${os.cpus().length} cores (${cpu}), ${memory} memory, Node ${process.version}, ${os.type()} ${os.release()}`,
    `open files per process ${openFilesLimit()}, ephemeral ports ${fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-')}`,
    `PostgreSQL ${await postgresVersion()}, NATS ${await natsVersion()}`,
  ].join('\n');
}

function openFilesLimit(): string {
  return /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'unknown';
}

async function postgresVersion(): Promise<string> {
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return `${rows[0]!.server_version} at ${POSTGRES_ADMIN_URL}`;
  } catch (err) {
    return `not reachable at ${POSTGRES_ADMIN_URL} (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function natsVersion(): Promise<string> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 5_000 });
    const version = nc.info?.version ?? 'unknown';
    await nc.close();
    return `${version} at ${NATS_URL}`;
  } catch (err) {
    return `not reachable at ${NATS_URL} (${(err as Error).message})`;
  }
}
