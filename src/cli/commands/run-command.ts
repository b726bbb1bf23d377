import * as nodePath from 'node:path';
import { flag, stringOption, type CommandSpec } from '../command-spec';
import { UsageError } from '../cli-errors';
import { parseAddress } from '../../node/net/direct-links';
import { kibPerSecond } from '../cli-values';
import { runDaemon } from '../run-daemon';
import { CA_OPTION, connectionOf, HOME_OPTION, homeOf } from './common-options';

export const runCommand: CommandSpec = {
  name: 'run',
  summary: "keep this device's shared folders in sync, until stopped",
  options: {
    home: HOME_OPTION,
    folders: { type: 'string', value: 'DIR', description: 'where spaces you joined on another device land here (default H/folders)' },
    'limit-up': { type: 'string', value: 'KIB_PER_S', description: 'cap on upload speed' },
    'limit-down': { type: 'string', value: 'KIB_PER_S', description: 'cap on download speed' },
    ca: CA_OPTION,
    'no-direct': { type: 'boolean', description: 'send everything through the server, never over a direct link to another device' },
    listen: {
      type: 'string',
      value: 'HOST:PORT',
      description: 'where other devices may connect directly (default 0.0.0.0:0: every IPv4 address, any free port)',
    },
  },
  notes: [
    'Logs to stderr; stops on Ctrl-C or SIGTERM. While it runs, the other commands on this home go through it.',
    'Devices connect directly when they can (over the LAN, or an announced address), still end-to-end encrypted;',
    'the server relays otherwise. A listen address on 127.0.0.1 keeps it on this host and announces nothing on the LAN.',
  ],
  run: async (args) => {
    const home = homeOf(args);
    const limitUp = kibPerSecond(stringOption(args, 'limit-up'), '--limit-up');
    const limitDown = kibPerSecond(stringOption(args, 'limit-down'), '--limit-down');
    const folders = stringOption(args, 'folders');
    const { caFile } = connectionOf(args);
    const noDirect = flag(args, 'no-direct');
    const listen = stringOption(args, 'listen');
    if (listen !== undefined && noDirect) throw new UsageError('--listen and --no-direct do not go together: --no-direct listens nowhere');
    if (listen !== undefined && !parseAddress(listen))
      throw new UsageError(`--listen needs HOST:PORT with an IPv4 HOST (0.0.0.0 for every address) and a port 0-65535, not "${listen}"`);
    await runDaemon(home, {
      ...(caFile ? { caFile } : {}),
      folders: folders === undefined ? home.file('folders') : nodePath.resolve(folders),
      ...(limitUp ? { limitUp } : {}),
      ...(limitDown ? { limitDown } : {}),
      direct: !noDirect,
      ...(listen !== undefined ? { listen } : {}),
    });
  },
};
