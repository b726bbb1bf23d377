#!/usr/bin/env node
/**
 * src/cli/: the `shared-folders` command (package.json "bin"). `server` starts the rendezvous
 * server; init, link, invite, accept, share, join, run, status and chat use the same account
 * functions and device agent as the engine host (src/node/agent).
 * May import src/sync, src/node and src/server; nothing imports it.
 */
import '../node/workers/thread-pool';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { RendezvousError, type Role } from '../sync/protocol/rendezvous';
import {
  AccountError,
  acceptInvite,
  createIdentity,
  createInviteCode,
  createLinkCode,
  joinSpace,
  offlineStatus,
  sendChatMessage,
  shareFolder,
  withServer,
} from '../node/agent/account';
import { CodeError } from '../node/agent/codes';
import type { AgentStatus } from '../node/agent/agent-status';
import { DeviceHome, HomeError } from '../node/agent/device-home';
import { CryptoError } from '../node/crypto/device-keys';
import { RendezvousServer } from '../server/rendezvous-server';
import { EngineCallError } from '../node/engine/engine-client';
import { runDaemon } from './run-daemon';
import { viaDaemonOr } from './via-daemon';

class UsageError extends Error {}

const USAGE = `usage:
  shared-folders server [--host 127.0.0.1] [--port 7070] [--data DIR] [--rate-limit MSGS_PER_S]
  shared-folders init   --home H --name NAME --server ws://HOST:PORT
  shared-folders init   --home H --server ws://HOST:PORT --link CODE
  shared-folders link   --home H
  shared-folders invite --home H
  shared-folders accept --home H CODE
  shared-folders share  --home H --path DIR --with NAME[,NAME...] [--role editor|reader]
  shared-folders join   --home H --space ID --path DIR
  shared-folders run    --home H [--folders DIR] [--limit-up KIB_PER_S] [--limit-down KIB_PER_S]
  shared-folders status --home H --json
  shared-folders chat   --home H --to NAME|SPACE MESSAGE`;

interface Args {
  readonly command: string;
  readonly flags: Map<string, string>;
  readonly positional: string[];
}

const BOOLEAN_FLAGS = new Set(['json']);

function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') throw new UsageError(USAGE);
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) {
      const name = a.slice(2);
      if (BOOLEAN_FLAGS.has(name)) flags.set(name, 'true');
      else {
        const value = rest[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      }
    } else positional.push(a);
  }
  return { command, flags, positional };
}

function need(args: Args, name: string): string {
  const v = args.flags.get(name);
  if (v === undefined || v === '') throw new UsageError(`${args.command} needs --${name}`);
  return v;
}

function home(args: Args): DeviceHome {
  return new DeviceHome(nodePath.resolve(need(args, 'home')));
}

async function commandServer(args: Args): Promise<void> {
  const port = Number(args.flags.get('port') ?? 7070);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${args.flags.get('port')} is not a port number`);
  const rate = args.flags.get('rate-limit');
  if (rate !== undefined && !(Number(rate) > 0))
    throw new UsageError(`--rate-limit ${rate} is not a positive number of messages per second`);
  const server = await RendezvousServer.start({
    host: args.flags.get('host') ?? '127.0.0.1',
    port,
    dataDir: nodePath.resolve(args.flags.get('data') ?? 'shared-folders-data'),
    ...(rate ? { limits: { messagesPerSecond: Number(rate) } } : {}),
  });
  const expiry = setInterval(() => void server.expireMailbox().catch(() => undefined), 3600_000);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  clearInterval(expiry);
  await server.close();
}

async function commandInit(args: Args): Promise<void> {
  const h = home(args);
  const link = args.flags.get('link');
  const server = args.flags.get('server');
  // The home is checked first, as a second init of the same home is the likeliest mistake.
  if (!h.exists && !server && !link) throw new UsageError('init needs --server');
  const created = await createIdentity(h, { ...(server ? { server } : {}), ...(link ? { link } : { name: need(args, 'name') }) });
  console.log(`device ${created.device} of ${created.identity.name}, fingerprint ${created.fingerprint}`);
  console.log(created.device);
}

async function commandLink(args: Args): Promise<void> {
  const h = home(args);
  console.log(await withServer(h, h.identity(), (session) => createLinkCode(session)));
}

async function commandInvite(args: Args): Promise<void> {
  const h = home(args);
  console.log(await withServer(h, h.identity(), (session) => createInviteCode(session)));
}

async function commandAccept(args: Args): Promise<void> {
  const h = home(args);
  const code = args.positional[0] ?? '';
  const contact = await withServer(h, h.identity(), (session) => acceptInvite(session, code));
  console.log(`${contact.name} is now a contact`);
  console.log(contact.name);
}

async function commandShare(args: Args): Promise<void> {
  const h = home(args);
  const path = nodePath.resolve(need(args, 'path'));
  const names = need(args, 'with')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const role = (args.flags.get('role') ?? 'editor') as Role;
  if (role !== 'editor' && role !== 'reader') throw new UsageError('--role is editor or reader');
  const space = await viaDaemonOr(
    h,
    async (d) => (await d.call('share', { path, with: names, role })).space,
    () => withServer(h, h.identity(), (session) => shareFolder(session, path, names, role)),
  );
  console.log(space);
}

async function commandJoin(args: Args): Promise<void> {
  const h = home(args);
  const space = need(args, 'space');
  const path = nodePath.resolve(need(args, 'path'));
  await viaDaemonOr(
    h,
    async (d) => void (await d.call('join', { space, path })),
    () => withServer(h, h.identity(), (session) => joinSpace(session, space, path)),
  );
  console.log(space);
}

async function commandRun(args: Args): Promise<void> {
  const h = home(args);
  const kib = (name: string): number | undefined => {
    const v = args.flags.get(name);
    if (v === undefined) return undefined;
    if (!(Number(v) > 0)) throw new UsageError(`--${name} ${v} is not a positive number of KiB per second`);
    return Number(v) * 1024;
  };
  const limitUp = kib('limit-up');
  const limitDown = kib('limit-down');
  await runDaemon(h, {
    folders: nodePath.resolve(args.flags.get('folders') ?? h.file('folders')),
    ...(limitUp ? { limitUp } : {}),
    ...(limitDown ? { limitDown } : {}),
  });
}

/** The status a running daemon of this home last wrote, if one is running. */
function daemonStatus(h: DeviceHome): AgentStatus | undefined {
  try {
    const pid = Number(fs.readFileSync(h.file('run.pid'), 'utf8'));
    process.kill(pid, 0);
    const written = fs.statSync(h.file('status.json')).mtimeMs;
    if (Date.now() - written > 5000) return undefined;
    return JSON.parse(fs.readFileSync(h.file('status.json'), 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
}

async function commandStatus(args: Args): Promise<void> {
  const h = home(args);
  const status = daemonStatus(h) ?? (await offlineStatus(h, h.identity()));
  if (args.flags.has('json')) console.log(JSON.stringify(status, null, 2));
  else {
    console.log(`${status.user?.name ?? '?'} (device ${status.device}), ${status.connected ? 'connected' : 'not connected'}`);
    for (const s of status.spaces)
      console.log(
        `  ${s.id} ${s.path}: ${s.inSync ? 'in sync' : 'not in sync'}, ${s.members.map((m) => `${m.name} (${m.role}, ${m.presence})`).join(', ')}`,
      );
    for (const c of status.conflicts) console.log(`  conflict in ${c.space}: ${c.path}`);
  }
}

async function commandChat(args: Args): Promise<void> {
  const h = home(args);
  const to = need(args, 'to');
  const text = args.positional.join(' ');
  if (!text) throw new UsageError('chat needs a message');
  const entry = await withServer(h, h.identity(), (session) => sendChatMessage(session, to, text));
  console.log(entry.id);
}

const COMMANDS: Record<string, (args: Args) => Promise<void>> = {
  server: commandServer,
  init: commandInit,
  link: commandLink,
  invite: commandInvite,
  accept: commandAccept,
  share: commandShare,
  join: commandJoin,
  run: commandRun,
  status: commandStatus,
  chat: commandChat,
};

async function main(argv: readonly string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = COMMANDS[args.command];
    if (!command) throw new UsageError(`unknown command ${args.command}\n${USAGE}`);
    await command(args);
    return 0;
  } catch (err) {
    const usage = err instanceof UsageError || err instanceof AccountError || (err instanceof EngineCallError && err.code === 'usage');
    const known =
      usage ||
      err instanceof EngineCallError ||
      err instanceof HomeError ||
      err instanceof CodeError ||
      err instanceof RendezvousError ||
      err instanceof CryptoError;
    const message = known ? (err as Error).message : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`shared-folders: ${message.split('\n').join(known ? '\n' : ' | ')}\n`);
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
