import * as nodePath from 'node:path';
import type { ServerLimits } from '../../server/server-limits';
import { BusUnreachableError, DatabaseOpenError } from '../../server/cluster/unreachable';
import { CliError, UsageError } from '../cli-errors';
import { flag, stringOption, type CommandSpec, type ParsedArgs } from '../command-spec';
import { portNumber, positiveNumber } from '../cli-values';
import { DEFAULT_METRICS_PORT, hostAndPort, isListenError, metricsListenError, serverTls } from '../server-options';

const MIB = 1024 * 1024;

export const serverCommand: CommandSpec = {
  name: 'server',
  summary: 'run the rendezvous server that devices sign in to',
  options: {
    host: { type: 'string', value: 'ADDRESS', description: 'address to listen on', default: '127.0.0.1' },
    port: { type: 'string', value: 'PORT', description: 'port to listen on', default: '7070' },
    data: { type: 'string', value: 'DIR', description: 'folder of its SQLite store (without --database)', default: 'shared-folders-data' },
    database: {
      type: 'string',
      value: 'URL',
      description: 'postgres://USER@HOST:PORT/DB: run as one process of a cluster on this database (with --bus)',
    },
    bus: { type: 'string', value: 'URL', description: "nats://HOST:PORT: where the cluster's processes meet (with --database)" },
    'node-id': { type: 'string', value: 'NAME', description: "this process's name in the cluster (<hostname>-<pid>)" },
    'rate-limit': { type: 'string', value: 'MSGS_PER_S', description: 'messages per second a connection may send' },
    'mailbox-quota': { type: 'string', value: 'MIB', description: "mailbox MiB one user's devices may have waiting (1024)" },
    'mailbox-cap': { type: 'string', value: 'MIB', description: 'mailbox MiB of all users together (16384)' },
    'accounts-per-address': { type: 'string', value: 'N', description: 'new accounts one address may create an hour (10)' },
    'accounts-per-hour': { type: 'string', value: 'N', description: 'new accounts the server accepts an hour (500)' },
    'codes-per-hour': { type: 'string', value: 'N', description: 'invite and link codes one user may make an hour (30)' },
    'live-codes': { type: 'string', value: 'N', description: 'unused codes one user may hold at once (50)' },
    heartbeat: { type: 'string', value: 'SECONDS', description: 'time between pings; a connection silent for two is closed (30)' },
    'connections-per-address': {
      type: 'string',
      value: 'N',
      description: 'open connections one IP address may hold; more are closed at once (256)',
    },
    'tls-cert': { type: 'string', value: 'FILE', description: 'PEM certificate chain: serve wss:// and https:// (with --tls-key)' },
    'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key of --tls-cert' },
    'metrics-host': {
      type: 'string',
      value: 'HOST[:PORT]',
      description: `serve /metrics there, plain HTTP (port ${DEFAULT_METRICS_PORT} unless given); off without it`,
    },
    'trust-proxy': { type: 'boolean', description: "take clients' addresses from X-Forwarded-For (only behind a reverse proxy)" },
  },
  notes: [
    'Runs until stopped (Ctrl-C or SIGTERM). GET /healthz answers 200 while its database and bus answer, 503 otherwise.',
    'The public port serves only the WebSocket and /healthz; /metrics is served on --metrics-host alone.',
    'Any number of processes with the same --database and --bus form one service; a device may connect to any of them.',
  ],
  run: async (args) => {
    const port = portNumber(stringOption(args, 'port')!);
    const tls = serverTls(stringOption(args, 'tls-cert'), stringOption(args, 'tls-key'));
    const metricsHost = stringOption(args, 'metrics-host');
    const metrics = metricsHost === undefined ? undefined : hostAndPort(metricsHost, '--metrics-host', DEFAULT_METRICS_PORT);
    const cluster = clusterFrom(args);
    // Loaded here, not at the top: every command, the daemon included, imports this table, and the
    // server's modules (SQLite, PostgreSQL, NATS) cost a daemon about 11 MiB it never uses.
    const { RendezvousServer } = await import('../../server/rendezvous-server');
    const server = await RendezvousServer.start({
      host: stringOption(args, 'host')!,
      port,
      dataDir: nodePath.resolve(stringOption(args, 'data')!),
      ...cluster,
      limits: limitsFrom(args),
      ...(tls ? { tls } : {}),
      ...(metrics ? { metrics } : {}),
      trustProxy: flag(args, 'trust-proxy'),
    }).catch((err: unknown) => {
      if (err instanceof BusUnreachableError || err instanceof DatabaseOpenError) throw new CliError(err.message);
      throw metrics && isListenError(err, metrics) ? metricsListenError(err, metricsHost!) : err;
    });
    const expiry = setInterval(() => void server.expireMailbox().catch(() => undefined), 3600_000);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    clearInterval(expiry);
    await server.close();
  },
};

/** `--database` and `--bus` go together: processes sharing a database must share a bus. */
function clusterFrom(args: ParsedArgs): { database?: string; bus?: string; nodeId?: string } {
  const database = stringOption(args, 'database');
  const bus = stringOption(args, 'bus');
  const nodeId = stringOption(args, 'node-id');
  if (database !== undefined && bus === undefined)
    throw new UsageError('--database needs --bus nats://HOST:PORT too: the processes sharing a database must share a bus');
  if (bus !== undefined && database === undefined)
    throw new UsageError('--bus needs --database postgres://USER@HOST:PORT/DB too: a cluster keeps its state in one database');
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database))
    throw new UsageError(`--database ${database} is not a PostgreSQL URL: write it as postgres://USER@HOST:PORT/DB`);
  if (bus !== undefined && !/^(nats|tls):\/\//.test(bus))
    throw new UsageError(`--bus ${bus} is not a NATS URL: write it as nats://HOST:PORT`);
  if (nodeId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId))
    throw new UsageError(`--node-id ${nodeId} is not a node name: use 1 to 64 letters, digits, '.', '_' or '-'`);
  return {
    ...(database !== undefined ? { database } : {}),
    ...(bus !== undefined ? { bus } : {}),
    ...(nodeId !== undefined ? { nodeId } : {}),
  };
}

/** The limits given on the command line; the others keep their defaults (server-limits.ts). */
function limitsFrom(args: ParsedArgs): Partial<ServerLimits> {
  const limits: { -readonly [K in keyof ServerLimits]?: ServerLimits[K] } = {};
  const number = (option: string, unit: string, example: string): number | undefined => {
    const text = stringOption(args, option);
    return text === undefined ? undefined : positiveNumber(text, `--${option}`, unit, example);
  };
  const count = (option: string, example: string): number | undefined => {
    const n = number(option, 'items', example);
    return n === undefined ? undefined : Math.max(1, Math.floor(n));
  };
  const set = <K extends keyof ServerLimits>(key: K, value: ServerLimits[K] | undefined): void => {
    if (value !== undefined) limits[key] = value;
  };
  set('messagesPerSecond', number('rate-limit', 'messages per second', '50'));
  const quota = number('mailbox-quota', 'MiB', '1024');
  set('mailboxQuotaBytes', quota === undefined ? undefined : Math.round(quota * MIB));
  const cap = number('mailbox-cap', 'MiB', '16384');
  set('mailboxTotalBytes', cap === undefined ? undefined : Math.round(cap * MIB));
  set('accountsPerAddressPerHour', count('accounts-per-address', '10'));
  set('accountsPerHour', count('accounts-per-hour', '500'));
  set('codesPerUserPerHour', count('codes-per-hour', '30'));
  set('liveCodesPerUser', count('live-codes', '50'));
  set('connectionsPerAddress', count('connections-per-address', '1000'));
  const heartbeat = number('heartbeat', 'seconds', '30');
  set('heartbeatMs', heartbeat === undefined ? undefined : Math.max(1, Math.round(heartbeat * 1000)));
  return limits;
}
