#!/usr/bin/env node
import './thread-pool';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fromHex, toHex } from '../sync/bytes';
import { RendezvousError, spaceDocSigningBytes, type AccountState, type Role, type SpaceDoc, type UserInfo } from '../sync/protocol/rendezvous';
import { appendChatHistory, sendChat } from '../node/chat';
import { DeviceAgent, type AgentStatus } from '../node/device-agent';
import { DeviceHome, HomeError, writeAtomic, writeReplacing } from '../node/device-home';
import { fingerprintOf, generateDeviceKeys, signWith, CryptoError } from '../node/device-keys';
import { DiskStore } from '../node/disk-store';
import { RendezvousClient } from '../node/rendezvous-client';
import { RendezvousServer } from '../server/rendezvous-server';
import { CodeError, decodeInvite, decodeLink, encodeInvite, encodeLink } from './codes';

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
  shared-folders run    --home H [--limit-up KIB_PER_S] [--limit-down KIB_PER_S]
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

/** Runs `work` over a one-shot connection that does not disturb a `run` daemon of the same home. */
async function withServer<T>(h: DeviceHome, work: (client: RendezvousClient, state: AccountState) => Promise<T>): Promise<T> {
  const identity = h.identity();
  const client = new RendezvousClient({ url: identity.server, keys: identity.keys, mode: 'command' });
  const state = await client.connect();
  try {
    return await work(client, state);
  } finally {
    await client.close();
  }
}

async function commandServer(args: Args): Promise<void> {
  const port = Number(args.flags.get('port') ?? 7070);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${args.flags.get('port')} is not a port number`);
  const rate = args.flags.get('rate-limit');
  if (rate !== undefined && !(Number(rate) > 0)) throw new UsageError(`--rate-limit ${rate} is not a positive number of messages per second`);
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
  if (h.exists) throw new HomeError(`${h.dir} already holds a device identity`);
  const linkText = args.flags.get('link');
  const link = linkText ? decodeLink(linkText) : undefined;
  const server = args.flags.get('server') ?? link?.server;
  if (!server) throw new UsageError('init needs --server');
  if (link && link.server !== server) throw new CodeError(`the link code is for ${link.server}, not ${server}`);
  const join = link ? { link: link.token } : { name: need(args, 'name') };
  const keys = generateDeviceKeys();
  const client = new RendezvousClient({ url: server, keys, mode: 'command', join });
  const state = await client.connect();
  await client.close();
  h.saveIdentity({ keys, server, name: state.user.name, user: state.user.id });
  console.log(`device ${client.device.id} of ${state.user.name}, fingerprint ${fingerprintOf(keys)}`);
  console.log(client.device.id);
}

async function commandLink(args: Args): Promise<void> {
  const h = home(args);
  const token = await withServer(h, async (client) => String((await client.request({ t: 'createLink' }))['token']));
  console.log(encodeLink({ server: h.identity().server, token }));
}

async function commandInvite(args: Args): Promise<void> {
  const h = home(args);
  const identity = h.identity();
  const token = await withServer(h, async (client) => String((await client.request({ t: 'createInvite' }))['token']));
  console.log(encodeInvite({ server: identity.server, token, fingerprint: fingerprintOf(identity.keys) }));
}

async function commandAccept(args: Args): Promise<void> {
  const h = home(args);
  const code = decodeInvite(args.positional[0] ?? '');
  const identity = h.identity();
  if (code.server !== identity.server) throw new CodeError(`the invite is for server ${code.server}; this device uses ${identity.server}`);
  const name = await withServer(h, async (client) => {
    const result = await client.request({ t: 'acceptInvite', token: code.token, fingerprint: code.fingerprint });
    const inviter = String(result['user']);
    const state = await client.request({ t: 'state' });
    const contact = (state['state'] as AccountState).contacts.find((c) => c.id === inviter);
    const matches = contact?.devices.some((d) => fingerprintOf({ signPublic: fromHex(d.signPublic), agreePublic: fromHex(d.agreePublic) }) === code.fingerprint);
    if (!contact || !matches) {
      await client.request({ t: 'removeContact', user: inviter });
      throw new CryptoError('badKey', 'the inviter\'s keys do not match the fingerprint in the code; the contact was not added');
    }
    return contact.name;
  });
  console.log(`${name} is now a contact`);
  console.log(name);
}

function contactsByName(state: AccountState, names: readonly string[]): UserInfo[] {
  return names.map((name) => {
    const found = state.contacts.filter((c) => c.name === name);
    if (found.length === 0) throw new UsageError(`${name} is not one of your contacts`);
    if (found.length > 1) throw new UsageError(`several contacts are called ${name}`);
    return found[0]!;
  });
}

async function commandShare(args: Args): Promise<void> {
  const h = home(args);
  const identity = h.identity();
  const path = nodePath.resolve(need(args, 'path'));
  const names = need(args, 'with').split(',').map((n) => n.trim()).filter(Boolean);
  const role = (args.flags.get('role') ?? 'editor') as Role;
  if (role !== 'editor' && role !== 'reader') throw new UsageError('--role is editor or reader');
  if (!fs.statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${path} is not a folder`);
  const id = await withServer(h, async (client, state) => {
    const members = contactsByName(state, names);
    const unsigned: Omit<SpaceDoc, 'signature'> = {
      id: crypto.randomBytes(16).toString('hex'),
      kind: role === 'reader' ? 'publish' : members.length > 1 ? 'group' : 'pair',
      version: 1,
      members: [{ user: state.user.id, role: 'owner' }, ...members.map((m) => ({ user: m.id, role }))],
      author: client.device.id,
    };
    const doc: SpaceDoc = { ...unsigned, signature: toHex(signWith(identity.keys, spaceDocSigningBytes(unsigned))) };
    await client.request({ t: 'putSpace', doc });
    return doc.id;
  });
  await DiskStore.initFolder(path);
  h.putSpace({ id, path });
  console.log(id);
}

async function commandJoin(args: Args): Promise<void> {
  const h = home(args);
  const space = need(args, 'space');
  const path = nodePath.resolve(need(args, 'path'));
  await withServer(h, async (client, state) => {
    const info = state.spaces.find((s) => s.doc.id === space);
    if (!info || info.status[state.user.id] === undefined) throw new UsageError(`no space ${space} was shared with you`);
    if (info.status[state.user.id] !== 'joined') await client.request({ t: 'respondSpace', space, accept: true });
  });
  fs.mkdirSync(path, { recursive: true });
  await DiskStore.initFolder(path);
  h.putSpace({ id: space, path });
  console.log(space);
}

async function commandRun(args: Args): Promise<void> {
  const h = home(args);
  const log = (message: string): void => void process.stderr.write(`${new Date().toISOString()} ${message}\n`);
  const kib = (name: string): number | undefined => {
    const v = args.flags.get(name);
    if (v === undefined) return undefined;
    if (!(Number(v) > 0)) throw new UsageError(`--${name} ${v} is not a positive number of KiB per second`);
    return Number(v) * 1024;
  };
  const limitUp = kib('limit-up');
  const limitDown = kib('limit-down');
  const agent = await DeviceAgent.start(h, {
    log,
    onChat: (m) => log(`chat from ${m.fromName}: ${m.text}`),
    ...(limitUp ? { limitUp } : {}),
    ...(limitDown ? { limitDown } : {}),
  });
  writeAtomic(h.file('run.pid'), String(process.pid));
  // Rewritten even when unchanged: its mtime is how `status` knows the daemon is alive.
  const writeStatus = (): void => writeReplacing(h.file('status.json'), JSON.stringify(agent.status(), null, 2));
  const timer = setInterval(writeStatus, 500);
  log(`running as device ${agent.client.device.id}`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  clearInterval(timer);
  await agent.close();
  fs.rmSync(h.file('run.pid'), { force: true });
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
  const status = daemonStatus(h) ?? (await offlineStatus(h));
  if (args.flags.has('json')) console.log(JSON.stringify(status, null, 2));
  else {
    console.log(`${status.user?.name ?? '?'} (device ${status.device}), ${status.connected ? 'connected' : 'not connected'}`);
    for (const s of status.spaces) console.log(`  ${s.id} ${s.path}: ${s.inSync ? 'in sync' : 'not in sync'}, ${s.members.map((m) => `${m.name} (${m.role}, ${m.presence})`).join(', ')}`);
    for (const c of status.conflicts) console.log(`  conflict in ${c.space}: ${c.path}`);
  }
}

/** Without a daemon: the server's view of presence and vectors, and the replicas' saved state. */
async function offlineStatus(h: DeviceHome): Promise<AgentStatus> {
  return withServer(h, async (client, state) => {
    const status = DeviceAgent.statusFrom(h, client.device.id, state, false);
    return { ...status, conflicts: await DeviceAgent.savedConflicts(h) };
  });
}

async function commandChat(args: Args): Promise<void> {
  const h = home(args);
  const to = need(args, 'to');
  const text = args.positional.join(' ');
  if (!text) throw new UsageError('chat needs a message');
  await withServer(h, async (client, state) => {
    // A group's conversation is its space: every member who joined, and this user's other devices.
    const space = state.spaces.find((s) => s.doc.id === to && s.status[state.user.id] === 'joined');
    const [conversation, recipients] = space
      ? [space.doc.id, space.users.filter((u) => space.status[u.id] === 'joined')]
      : ((c: UserInfo): [string, UserInfo[]] => [c.id, [c, state.user]])(contactsByName(state, [to])[0]!);
    const { entry, devices } = sendChat(client, h.identity().keys, state.user, recipients, conversation, text);
    if (devices === 0) throw new UsageError(`${to} has no devices`);
    appendChatHistory(h, entry);
    // The deposits are sent; a request answered after them means the server has them all.
    await client.request({ t: 'state' });
    console.log(entry.id);
  });
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
    const known = err instanceof UsageError || err instanceof HomeError || err instanceof CodeError || err instanceof RendezvousError || err instanceof CryptoError;
    const message = known ? (err as Error).message : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`shared-folders: ${message.split('\n').join(known ? '\n' : ' | ')}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
