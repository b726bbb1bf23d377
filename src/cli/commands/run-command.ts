import * as nodePath from 'node:path';
import { stringOption, type CommandSpec } from '../command-spec';
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
  },
  notes: ['Logs to stderr; stops on Ctrl-C or SIGTERM. While it runs, the other commands on this home go through it.'],
  run: async (args) => {
    const home = homeOf(args);
    const limitUp = kibPerSecond(stringOption(args, 'limit-up'), '--limit-up');
    const limitDown = kibPerSecond(stringOption(args, 'limit-down'), '--limit-down');
    const folders = stringOption(args, 'folders');
    const { caFile } = connectionOf(args);
    await runDaemon(home, {
      ...(caFile ? { caFile } : {}),
      folders: folders === undefined ? home.file('folders') : nodePath.resolve(folders),
      ...(limitUp ? { limitUp } : {}),
      ...(limitDown ? { limitDown } : {}),
    });
  },
};
