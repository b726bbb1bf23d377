import { printable } from '../../sync/util/printable';
import { acceptInvite, createIdentity, createInviteCode, createLinkCode, withServer } from '../../node/agent/account';
import { requiredOption, stringOption, type CommandSpec } from '../command-spec';
import { UsageError } from '../cli-errors';
import { newHome, serverAddress } from '../cli-values';
import { viaDaemonOr } from '../via-daemon';
import { CA_OPTION, connectionOf, HOME_OPTION, homeOf } from './common-options';

export const initCommand: CommandSpec = {
  name: 'init',
  summary: "create this device's identity: a new user, or another device of a user with --link",
  options: {
    home: { ...HOME_OPTION, description: 'a new home folder for this device' },
    name: { type: 'string', value: 'NAME', description: 'your name as contacts see it (a new user)' },
    server: { type: 'string', value: 'URL', description: 'the rendezvous server, ws://HOST:PORT or wss://HOST' },
    link: { type: 'string', value: 'CODE', description: 'a code from "link" on your other device (another device of that user)' },
    ca: CA_OPTION,
  },
  forms: ['--home H --name NAME --server ws://HOST:PORT', '--home H --link CODE [--server ws://HOST:PORT]'],
  notes: ['Prints the device and its fingerprint, then the device id on the last line.'],
  run: async (args) => {
    const link = stringOption(args, 'link');
    const name = stringOption(args, 'name');
    const server = stringOption(args, 'server');
    if (link !== undefined && name !== undefined)
      throw new UsageError('init takes --name or --link, not both: --link adds a device to an existing user');
    if (link === undefined && name === undefined)
      throw new UsageError('init needs --name NAME for a new user, or --link CODE for another device of a user');
    if (link === undefined && server === undefined)
      throw new UsageError('init needs --server ws://HOST:PORT: the rendezvous server this user signs in to');
    if (server !== undefined) serverAddress(server);
    const connection = connectionOf(args);
    const home = newHome(requiredOption(args, 'home'));
    const created = await createIdentity(home, { ...(server ? { server } : {}), ...(link ? { link } : { name: name! }), ...connection });
    console.log(`device ${created.device} of ${created.identity.name}, fingerprint ${created.fingerprint}`);
    console.log(created.device);
  },
};

export const linkCommand: CommandSpec = {
  name: 'link',
  summary: 'print a one-time code that adds another device to this user',
  options: { home: HOME_OPTION, ca: CA_OPTION },
  notes: ['On the other device: shared-folders init --home H2 --link CODE'],
  run: async (args) => {
    const home = homeOf(args);
    const code = await viaDaemonOr(
      home,
      async (d) => (await d.call('createLink', {})).code,
      () => withServer(home, home.identity(), (session) => createLinkCode(session), connectionOf(args)),
    );
    console.log(code);
  },
};

export const inviteCommand: CommandSpec = {
  name: 'invite',
  summary: 'print a one-time invite code for a new contact',
  options: { home: HOME_OPTION, ca: CA_OPTION },
  notes: ['Your contact runs: shared-folders accept --home THEIR_HOME CODE'],
  run: async (args) => {
    const home = homeOf(args);
    const code = await viaDaemonOr(
      home,
      async (d) => (await d.call('createInvite', {})).code,
      () => withServer(home, home.identity(), (session) => createInviteCode(session), connectionOf(args)),
    );
    console.log(code);
  },
};

export const acceptCommand: CommandSpec = {
  name: 'accept',
  summary: "accept a contact's invite code",
  options: { home: HOME_OPTION, ca: CA_OPTION },
  positionals: [{ name: 'CODE', description: 'the invite code your contact printed with "invite"', required: true }],
  notes: ["Prints the contact's name on the last line."],
  run: async (args) => {
    const home = homeOf(args);
    const code = args.positionals[0]!.trim();
    const name = await viaDaemonOr(
      home,
      async (d) => {
        const { contact } = await d.call('acceptInvite', { code });
        const status = await d.call('status', {});
        return status.contacts.find((c) => c.id === contact)?.name ?? contact;
      },
      async () => (await withServer(home, home.identity(), (session) => acceptInvite(session, code), connectionOf(args))).name,
    );
    console.log(`${printable(name)} is now a contact`);
    console.log(printable(name));
  },
};
