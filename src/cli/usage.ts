import type { CommandSpec, OptionSpec } from './command-spec';
import { DEBUG_VARIABLE } from './cli-errors';

export const PROGRAM = 'shared-folders';

/** `shared-folders --help`: every command with its summary. */
export function globalUsage(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `usage: ${PROGRAM} COMMAND [OPTIONS]`,
    '',
    'Shares folders between devices, end-to-end encrypted. Each device keeps its keys and state in a',
    'home folder (--home); "run" keeps that device in sync, the other commands do one thing and exit.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    `"${PROGRAM} COMMAND --help" (or "${PROGRAM} help COMMAND") shows a command's options.`,
    `Errors are one line; ${DEBUG_VARIABLE}=1 adds the details of an unexpected one.`,
  ].join('\n');
}

/** `shared-folders COMMAND --help`: its forms, then each option and argument. */
export function commandUsage(command: CommandSpec): string {
  const forms = command.forms ?? [synopsis(command)];
  const rows: [string, string][] = [
    ...Object.entries(command.options).map(([name, option]): [string, string] => [optionWords(name, option), describe(option)]),
    ...(command.positionals ?? []).map((p): [string, string] => [p.variadic ? `${p.name}...` : p.name, p.description]),
    ['-h, --help', 'show this help'],
  ];
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    ...forms.map((form, i) => `${i === 0 ? 'usage:' : '      '} ${PROGRAM} ${command.name} ${form}`.trimEnd()),
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    '',
    'options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    ...(command.notes ? ['', ...command.notes] : []),
  ].join('\n');
}

/** The usage line made from the options: required ones bare, the others in brackets. */
export function synopsis(command: CommandSpec): string {
  const words = Object.entries(command.options).map(([name, option]) => {
    const word = optionWords(name, option);
    return option.required ? word : `[${word}]`;
  });
  for (const p of command.positionals ?? []) {
    const word = p.variadic ? `${p.name}...` : p.name;
    words.push(p.required ? word : `[${word}]`);
  }
  return words.join(' ');
}

/** `--port PORT` or `--json`. */
export function optionWords(name: string, option: OptionSpec): string {
  return option.type === 'boolean' ? `--${name}` : `--${name} ${option.value ?? 'VALUE'}`;
}

function describe(option: OptionSpec): string {
  const extra = [option.required ? 'required' : undefined, option.default !== undefined ? `default ${option.default}` : undefined].filter(
    (x): x is string => x !== undefined,
  );
  return extra.length > 0 ? `${option.description} (${extra.join(', ')})` : option.description;
}
