import type { SpaceSettings } from '../../node/agent/device-home';
import { requiredOption, stringOption, type CommandSpec } from '../command-spec';
import { CliError, UsageError } from '../cli-errors';
import { positiveNumber } from '../cli-values';
import { HOME_OPTION, homeOf } from './common-options';

/**
 * Settings of one space that belong to this device alone: kept in its home, never synced, so
 * no member can change them for another. A running daemon sees the change and reopens the space.
 */
export const spaceOptionCommand: CommandSpec = {
  name: 'space-option',
  summary: "change this device's own settings for a shared folder",
  options: {
    home: HOME_OPTION,
    space: { type: 'string', value: 'ID', description: 'the space ("status" lists them)', required: true },
    'sync-git': {
      type: 'string',
      value: 'on|off',
      description: 'sync .git folders (never their hooks, config, or files pointing at another repository)',
    },
    'mail-cache': {
      type: 'string',
      value: 'MIB',
      description: 'room for blocks from the mailbox waiting for their files (default 1024)',
    },
  },
  notes: [
    'Version-control folders (.git, .hg, .svn, .bzr, .jj, .pijul, _darcs) never sync by default, whatever',
    '.sharedignore says. With --sync-git on, .git syncs here if .sharedignore also has "!.git/".',
  ],
  run: async (args) => {
    const home = homeOf(args);
    const space = requiredOption(args, 'space');
    const git = stringOption(args, 'sync-git');
    const cache = stringOption(args, 'mail-cache');
    if (git === undefined && cache === undefined) throw new UsageError('give --sync-git on|off, --mail-cache MIB, or both');
    if (git !== undefined && git !== 'on' && git !== 'off') throw new UsageError(`--sync-git ${git} is not a choice: use on or off`);
    const settings: SpaceSettings = {
      ...(git !== undefined ? { syncGit: git === 'on' } : {}),
      ...(cache !== undefined ? { mailCacheBytes: Math.round(positiveNumber(cache, '--mail-cache', 'MiB', '256') * 1024 * 1024) } : {}),
    };
    if (!home.setSpaceSettings(space, settings))
      throw new CliError(`space ${space} is not joined on this device ("status" lists the spaces)`);
    if (git === 'on') console.log(`space ${space}: .git folders sync on this device, without hooks, config or repository pointers`);
    if (git === 'off') console.log(`space ${space}: .git folders no longer sync on this device`);
    if (cache !== undefined) console.log(`space ${space}: blocks from the mailbox may take ${cache} MiB on this device`);
  },
};
