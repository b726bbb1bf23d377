import type { CommandSpec } from './command-spec';
import { acceptCommand, initCommand, inviteCommand, linkCommand } from './commands/account-commands';
import { chatCommand } from './commands/chat-command';
import { deletesCommand } from './commands/deletes-command';
import { conflictsCommand, resolveCommand } from './commands/conflict-commands';
import { runCommand } from './commands/run-command';
import { serverCommand } from './commands/server-command';
import { spaceOptionCommand } from './commands/space-option-command';
import { joinCommand, leaveCommand, shareCommand } from './commands/space-commands';
import { statusCommand } from './commands/status-command';

/** Every command, in the order the global usage lists them: roughly the order a new user needs them. */
export const COMMANDS: readonly CommandSpec[] = [
  serverCommand,
  initCommand,
  linkCommand,
  inviteCommand,
  acceptCommand,
  shareCommand,
  joinCommand,
  leaveCommand,
  spaceOptionCommand,
  runCommand,
  statusCommand,
  chatCommand,
  conflictsCommand,
  resolveCommand,
  deletesCommand,
];
