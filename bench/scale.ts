/**
 * Scale-out benchmark of the rendezvous server, in one run, side by side:
 *   - 1 process on SQLite (the embedded default),
 *   - 1 process on PostgreSQL + NATS,
 *   - 3 processes on PostgreSQL + NATS (one cluster: one database, one bus),
 * each started as a user starts it (the CLI's `server` command), a fresh database per cluster
 * configuration, dropped afterwards. For each it measures:
 *   a. idle authenticated session connections held with presence: every device has a contact on
 *      the next process that it sees online; counted by each process's /metrics, sampled by
 *      asking the server for the state of both ends of evenly spread pairs; RSS per process;
 *   b. relay messages of 256 bytes routed per second from a device to its contact on another
 *      process (on the same one for a single process);
 *   c. sign-ins per second of existing devices (signed out, then in again), each seen coming
 *      online by its contact on another process;
 *   d. mailbox deposits plus deliveries per second, to an online contact on another process
 *      that acknowledges each item.
 * Devices are the project's RendezvousClient with real device keys, spread over client processes
 * (CLIENT_CONNECTIONS each: the open-files limit is per process). They all connect from
 * 127.0.0.1: each server process has a port of its own, and the kernel's ephemeral ports
 * (28,232 here) are per destination, so 10,000 per process need no other source address.
 * Options: `--connections N` per server process (10,000), `--only sqlite,pg1,pg3`, `--signins N`,
 * `--relay-pairs N`, `--relay-seconds S`, `--mailbox-pairs N`, `--mailbox-items N` (in all).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as nodePath from 'node:path';
import { numberOption, option } from './bench-args';
import { describeMachine } from './machine';
import type { ClientCommand, ClientReply } from './scale-messages';
import { benchLimits, ServerGroup, type ServerConfig } from './scale-servers';

const CONNECTIONS = numberOption('connections', 10_000);
const SIGNINS = numberOption('signins', 4_000);
const RELAY_PAIRS = numberOption('relay-pairs', 24);
const RELAY_SECONDS = numberOption('relay-seconds', 10);
const MAILBOX_PAIRS = numberOption('mailbox-pairs', 24);
const MAILBOX_ITEMS = numberOption('mailbox-items', 12_000);
const ONLY = option('only', 'sqlite,pg1,pg3').split(',');
/** Connections one client process holds: well under the 20,000 open files a process may have here. */
const CLIENT_CONNECTIONS = 5_000;
const RELAY_BYTES = 256;
const MAILBOX_BYTES = 1024;
/** Pairs whose state is asked for from both ends, in all. */
const PRESENCE_SAMPLE = 300;

const CONFIGS: readonly (ServerConfig & { key: string })[] = [
  { key: 'sqlite', name: '1 process, SQLite', processes: 1, store: 'sqlite' },
  { key: 'pg1', name: '1 process, PG+NATS', processes: 1, store: 'postgres' },
  { key: 'pg3', name: '3 processes, PG+NATS', processes: 3, store: 'postgres' },
];

/** A client process, asked one thing at a time. */
class ClientProcess {
  private readonly child: ChildProcess = fork(nodePath.join(__dirname, 'scale-client.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  ask(command: ClientCommand): Promise<ClientReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`a client process exited (${code}) during ${command.t}`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: ClientReply) => {
        this.child.off('exit', onExit);
        if (reply.t === 'failed') reject(new Error(`a client process failed ${command.t}: ${reply.message}`));
        else resolve(reply);
      });
      this.child.send(command);
    });
  }

  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

/** `total` split over `parts` as evenly as whole numbers allow. */
function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

type Replies<T extends ClientReply['t']> = Extract<ClientReply, { t: T }>[];

/** Asks every client process at once, and times the whole from the first question to the last answer. */
async function everyone<T extends ClientReply['t']>(
  clients: readonly ClientProcess[],
  command: (i: number) => ClientCommand & { t: T },
): Promise<{ replies: Replies<T>; ms: number }> {
  const started = performance.now();
  const replies = (await Promise.all(clients.map((c, i) => c.ask(command(i))))) as Replies<T>;
  return { replies, ms: performance.now() - started };
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
const perSecond = (count: number, ms: number): string => Math.round(count / (ms / 1000)).toLocaleString('en-US');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One configuration's column of the table: row label to cell. */
type Column = Map<string, string>;

/** Fills `column` as it goes, so a configuration that fails part-way still shows what it measured. */
async function measure(config: ServerConfig, column: Column): Promise<void> {
  const total = CONNECTIONS * config.processes;
  const pairCount = Math.floor(total / 2);
  const group = await ServerGroup.start(config, benchLimits(CONNECTIONS));
  const clients = Array.from({ length: Math.max(1, Math.ceil(total / CLIENT_CONNECTIONS)) }, () => new ClientProcess());
  try {
    const counts = split(pairCount, clients.length);
    const firsts = counts.map((_, i) => sum(counts.slice(0, i)));
    log(config, `signing up ${(pairCount * 2).toLocaleString('en-US')} devices in ${pairCount.toLocaleString('en-US')} pairs of contacts`);
    const setup = await everyone(clients, (i) => ({ t: 'setup', urls: group.urls, first: firsts[i]!, count: counts[i]! }));
    column.set('new accounts + invite + accept, accounts/s', perSecond(2 * sum(setup.replies.map((r) => r.pairs)), setup.ms));

    // (a) connections held: the servers' own count, once it has settled.
    let held: number[] = [];
    const deadline = Date.now() + 60_000;
    do {
      await sleep(1000);
      held = await group.metric('sharedfolders_authenticated_connections');
    } while (sum(held) < pairCount * 2 && Date.now() < deadline);
    await sleep(5000);
    held = await group.metric('sharedfolders_authenticated_connections');
    column.set('idle sessions held (/metrics, all processes)', sum(held).toLocaleString('en-US'));
    column.set('  per process', held.map((n) => n.toLocaleString('en-US')).join(' / '));
    column.set(
      'server RSS per process, MiB',
      group
        .rssMiB()
        .map((m) => m.toFixed(0))
        .join(' / '),
    );
    const sample = split(PRESENCE_SAMPLE, clients.length);
    const verify = await everyone(clients, (i) => ({ t: 'verify', sample: sample[i]! }));
    column.set(
      'sampled pairs seeing each other online',
      `${sum(verify.replies.map((r) => r.online))} of ${sum(verify.replies.map((r) => r.checked))}`,
    );
    column.set('sessions the server dropped', String(sum(verify.replies.map((r) => r.disconnects))));

    // (b) relay between devices on different processes.
    log(config, `relaying ${RELAY_BYTES} B messages for ${RELAY_SECONDS} s`);
    const relayPairs = split(Math.min(RELAY_PAIRS, pairCount), clients.length);
    const relay = await everyone(clients, (i) => ({ t: 'relay', pairs: relayPairs[i]!, seconds: RELAY_SECONDS, bytes: RELAY_BYTES }));
    const relayed = sum(relay.replies.map((r) => r.received));
    column.set(`relay ${RELAY_BYTES} B messages/s`, perSecond(relayed, Math.max(...relay.replies.map((r) => r.ms))));
    column.set(
      '  relayed lost (sender told busy)',
      `${sum(relay.replies.map((r) => r.sent)) - relayed} (${sum(relay.replies.map((r) => r.busy))})`,
    );

    // (c) sign-ins of existing devices, timed from the first to the last across every client process.
    const cycled = split(Math.min(SIGNINS, pairCount), clients.length);
    log(config, `signing ${sum(cycled)} devices out and in again`);
    const signout = await everyone(clients, (i) => ({ t: 'signout', count: cycled[i]! }));
    const signin = await everyone(clients, () => ({ t: 'signin' }));
    const presence = await everyone(clients, () => ({ t: 'presence' }));
    const signedIn = sum(signin.replies.map((r) => r.signedIn));
    column.set('sign-ins/s (existing devices)', perSecond(signedIn, signin.ms));
    column.set(
      '  contact saw it offline, then online',
      `${sum(signout.replies.map((r) => r.offline))}, ${sum(presence.replies.map((r) => r.seen))} of ${signedIn}`,
    );
    const failed = sum(cycled) - signedIn;
    if (failed > 0) column.set('  sign-ins failed', `${failed}: ${signin.replies.find((r) => r.failed)!.failed.slice(0, 50)}`);

    // (d) mailbox to online contacts that acknowledge.
    const mailboxPairs = Math.min(MAILBOX_PAIRS, pairCount);
    log(config, `depositing ${MAILBOX_ITEMS} mailbox items of ${MAILBOX_BYTES} B`);
    const pairsOf = split(mailboxPairs, clients.length);
    const mailbox = await everyone(clients, (i) => ({
      t: 'mailbox',
      pairs: pairsOf[i]!,
      items: pairsOf[i]! === 0 ? 0 : Math.ceil(MAILBOX_ITEMS / mailboxPairs),
      bytes: MAILBOX_BYTES,
    }));
    // What was deposited (sent and not refused) plus what was delivered, over the time to the last delivery.
    const moved = sum(mailbox.replies.map((r) => r.deposited + r.delivered));
    column.set(`mailbox deposits + deliveries/s (${MAILBOX_BYTES} B)`, perSecond(moved, Math.max(...mailbox.replies.map((r) => r.ms))));
    column.set(
      '  delivered of deposited (refused)',
      `${sum(mailbox.replies.map((r) => r.delivered))} of ${sum(mailbox.replies.map((r) => r.deposited))} (${sum(mailbox.replies.map((r) => r.refused))})`,
    );
    // The store is shared in a cluster: every process reports the same mailbox.
    const left = await settled(async () => (await group.metric('sharedfolders_mailbox_items'))[0]!, 0, 30_000);
    column.set('  items left after acks', String(left));
    const still = await group.metric('sharedfolders_authenticated_connections');
    column.set('sessions held at the end (/metrics)', still.map((n) => n.toLocaleString('en-US')).join(' / '));
  } finally {
    await Promise.all(clients.map((c) => c.kill()));
    await group.stop();
  }
}

/** Polls `read` until it gives `want` or `timeoutMs` passes; returns the last value. */
async function settled(read: () => Promise<number>, want: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value !== want && Date.now() < deadline) {
    await sleep(500);
    value = await read();
  }
  return value;
}

function log(config: ServerConfig, what: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${config.name}: ${what}`);
}

function printTable(names: readonly string[], columns: readonly Column[]): void {
  const labels = [...new Set(columns.flatMap((c) => [...c.keys()]))];
  const rows = [['', ...names], ...labels.map((label) => [label, ...columns.map((c) => c.get(label) ?? '')])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

async function main(): Promise<void> {
  const configs = CONFIGS.filter((c) => ONLY.includes(c.key));
  console.log(
    `bench:scale: ${CONNECTIONS.toLocaleString('en-US')} connections per server process; ${configs.map((c) => c.name).join('; ')}`,
  );
  console.log(await describeMachine());
  const columns: Column[] = [];
  for (const [i, config] of configs.entries()) {
    const column: Column = new Map();
    columns.push(column);
    try {
      await measure(config, column);
    } catch (err) {
      console.error(`${config.name} failed: ${(err as Error).stack ?? String(err)}`);
      column.set('failed', (err as Error).message.split('\n')[0]!.slice(0, 60));
    }
    // The table so far after each configuration: a run cut short still shows what it measured.
    console.log();
    printTable(
      configs.slice(0, i + 1).map((c) => c.name),
      columns,
    );
  }
  if (columns.some((c) => c.has('failed'))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
