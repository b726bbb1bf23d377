import { printable } from '../../sync/util/printable';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { savedConflicts } from '../../node/agent/agent-status';
import type { DeviceHome, LocalSpace } from '../../node/agent/device-home';
import { resolveConflict } from '../../node/disk/conflict-resolution';
import { DiskReplica } from '../../node/disk/disk-replica';
import { flag, requiredOption, type CommandSpec } from '../command-spec';
import { CliError } from '../cli-errors';
import { keepChoice, type KeepChoice } from '../cli-values';
import { viaDaemonOr, type DaemonConnection } from '../via-daemon';
import { HOME_OPTION, JSON_OPTION, homeOf } from './common-options';

/** A conflict as the engine lists it: both paths space-relative, `/`-separated. */
interface Conflict {
  readonly space: string;
  readonly path: string;
  readonly copy: string;
}

const RESOLVE_HINT = 'settle one with "shared-folders resolve PATH --keep mine|theirs|both", or delete its conflict copy to keep yours';

export const conflictsCommand: CommandSpec = {
  name: 'conflicts',
  summary: 'list conflicts: files two devices changed at once, with the copy holding the other version',
  options: { home: HOME_OPTION, json: JSON_OPTION },
  notes: ['Deleting a conflict copy also settles its conflict (yours stays).'],
  run: async (args) => {
    const home = homeOf(args);
    const conflicts = await viaDaemonOr(home, daemonConflicts, () => savedConflicts(home));
    const spaces = home.spaces();
    const abs = (space: string, path: string): string =>
      absolute(
        spaces.find((s) => s.id === space),
        path,
      );
    if (flag(args, 'json')) {
      const rows = conflicts.map((c) => ({ ...c, file: abs(c.space, c.path), copyFile: abs(c.space, c.copy) }));
      console.log(JSON.stringify({ conflicts: rows }, null, 2));
      return;
    }
    if (conflicts.length === 0) return void console.log('no conflicts');
    for (const c of conflicts)
      console.log(`${printable(abs(c.space, c.path))}: the other version is in ${printable(abs(c.space, c.copy))} (space ${c.space})`);
    console.log(RESOLVE_HINT);
  },
};

export const resolveCommand: CommandSpec = {
  name: 'resolve',
  summary: 'settle a conflict: keep your version, take theirs, or keep both',
  options: {
    home: HOME_OPTION,
    keep: { type: 'string', value: 'mine|theirs|both', description: 'which version stays at PATH', required: true },
  },
  positionals: [
    { name: 'PATH', description: 'the file in conflict, or its conflict copy (absolute, or relative to here)', required: true },
  ],
  notes: [
    'mine deletes the conflict copy; theirs puts the copy in place of your file and deletes the copy; both',
    "renames the copy next to the file. Replaced versions are kept in the folder's .shared-folder/versions.",
    'Every member sees the result. Deleting the conflict copy yourself is the same as --keep mine.',
  ],
  run: async (args) => {
    const home = homeOf(args);
    const given = args.positionals[0]!;
    const choice = keepChoice(requiredOption(args, 'keep'));
    const { space, path } = inSpace(home, given);
    const settled = await viaDaemonOr(
      home,
      async (d) => {
        const conflict = pick(
          (await daemonConflicts(d)).filter((c) => c.space === space.id),
          path,
          given,
          home,
        );
        await d.call('resolveConflict', { space: space.id, path: conflict.copy, choice });
        return conflict;
      },
      () => resolveWithoutDaemon(home, space, path, given, choice),
    );
    console.log(doneText(choice, absolute(space, settled.path), absolute(space, settled.copy)));
  },
};

async function daemonConflicts(d: DaemonConnection): Promise<Conflict[]> {
  return (await d.call('status', {})).spaces.flatMap((s) => s.conflicts.map((c) => ({ space: c.space, path: c.path, copy: c.copy })));
}

/** The same file operations the engine uses (conflict-resolution.ts), on the replica opened for the moment. */
async function resolveWithoutDaemon(
  home: DeviceHome,
  space: LocalSpace,
  path: string,
  given: string,
  choice: KeepChoice,
): Promise<Conflict> {
  if (!fs.existsSync(space.path)) throw new CliError(`the shared folder ${space.path} is missing: put it back, or leave the space`);
  const disk = await DiskReplica.open({
    root: space.path,
    stateDir: home.stateDir(space.id),
    user: home.identity().name,
    watch: false,
    port: { send: () => undefined },
  });
  try {
    const infos = disk.replica.conflicts();
    const conflict = pick(
      infos.map((c) => ({ space: space.id, path: c.path, copy: c.copyPath })),
      path,
      given,
      home,
    );
    await resolveConflict(
      disk,
      infos.find((c) => c.copyPath === conflict.copy)!,
      choice,
    );
    return conflict;
  } finally {
    await disk.close();
  }
}

/** The conflict PATH names: by its file (the oldest copy, as the engine does) or by the copy itself. */
function pick(conflicts: readonly Conflict[], path: string, given: string, home: DeviceHome): Conflict {
  const conflict = conflicts.find((c) => c.copy === path) ?? conflicts.find((c) => c.path === path);
  if (!conflict) throw new CliError(`${given} has no conflict: "shared-folders conflicts --home ${home.dir}" lists them`);
  return conflict;
}

/** The space a path lies in, and the path within it, `/`-separated. */
function inSpace(home: DeviceHome, given: string): { space: LocalSpace; path: string } {
  const abs = nodePath.resolve(given);
  const space = home
    .spaces()
    .filter((s) => abs === s.path || abs.startsWith(s.path.endsWith(nodePath.sep) ? s.path : s.path + nodePath.sep))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!space)
    throw new CliError(`${given} is not inside a shared folder of this device: "shared-folders status --home ${home.dir}" lists them`);
  const path = nodePath.relative(space.path, abs).split(nodePath.sep).join('/');
  if (path === '') throw new CliError(`${given} is the shared folder itself: give the file in conflict, or its conflict copy`);
  return { space, path };
}

function absolute(space: LocalSpace | undefined, path: string): string {
  return space ? nodePath.join(space.path, ...path.split('/')) : path;
}

function doneText(choice: KeepChoice, file: string, copy: string): string {
  if (choice === 'mine') return `kept yours: ${file}; the other version (${copy}) is deleted, and kept in .shared-folder/versions`;
  if (choice === 'theirs') return `took theirs: ${file} now holds the other version; yours is kept in .shared-folder/versions`;
  return `kept both: ${file} stays, and the other version is renamed from ${copy} to a name of its own beside it`;
}
