import { requiredOption, stringOption, type CommandSpec } from '../command-spec';
import { CliError } from '../cli-errors';
import { viaDaemonOr } from '../via-daemon';
import { HOME_OPTION, homeOf } from './common-options';

const CHOICES = { apply: 'delete', restore: 'restore' } as const;

/**
 * The answer to a folder paused because a scan found every file (or most of a large folder)
 * deleted: the pause lives in the running replica, so only a running daemon can take it.
 */
export const deletesCommand: CommandSpec = {
  name: 'deletes',
  summary: 'answer a folder paused because its files were deleted: delete them everywhere, or restore them',
  options: {
    home: HOME_OPTION,
    space: { type: 'string', value: 'ID', description: 'the paused space (the daemon log and "status" name it)', required: true },
    answer: {
      type: 'string',
      value: 'apply|restore',
      description: 'apply: the deletes go to every member; restore: the files come back from the others',
      required: true,
    },
  },
  notes: [
    'A folder pauses when a scan finds all its files gone (any size), or over half of 100 or more:',
    'an unmounted disk or a mistaken "rm" must not delete them for everyone. Needs "shared-folders run".',
  ],
  run: async (args) => {
    const home = homeOf(args);
    const space = requiredOption(args, 'space');
    const answer = stringOption(args, 'answer');
    if (answer !== 'apply' && answer !== 'restore') throw new CliError(`--answer ${answer} is not apply or restore`);
    await viaDaemonOr(
      home,
      async (d) => void (await d.call('resolveMassDelete', { space, choice: CHOICES[answer] })),
      () => {
        throw new CliError(
          `no daemon is running for ${home.dir}, and only a running one holds the pause: start "shared-folders run --home ${home.dir}"; it pauses again at its first scan`,
        );
      },
    );
    console.log(answer === 'apply' ? `space ${space}: the deletes go to every member` : `space ${space}: the files are being restored`);
  },
};
