import { requiredOption, type CommandSpec } from '../command-spec';
import { CliError, UsageError } from '../cli-errors';
import { HOME_OPTION, homeOf } from './common-options';

/**
 * Settings of one space that belong to this device alone: kept in its home, never synced, so
 * no member can turn them on for another. A running daemon sees the change and reopens the space.
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
      required: true,
    },
  },
  notes: [
    'Version-control folders (.git, .hg, .svn, .bzr, .jj, .pijul, _darcs) never sync by default, whatever',
    '.sharedignore says. With --sync-git on, .git syncs here if .sharedignore also has "!.git/".',
  ],
  run: async (args) => {
    const home = homeOf(args);
    const space = requiredOption(args, 'space');
    const value = requiredOption(args, 'sync-git');
    if (value !== 'on' && value !== 'off') throw new UsageError(`--sync-git ${value} is not a choice: use on or off`);
    if (!home.setSyncGit(space, value === 'on'))
      throw new CliError(`space ${space} is not joined on this device ("status" lists the spaces)`);
    console.log(
      value === 'on'
        ? `space ${space}: .git folders sync on this device, without hooks, config or repository pointers`
        : `space ${space}: .git folders no longer sync on this device`,
    );
  },
};
