import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CommandSpec, OptionSpec, ParsedArgs } from './command-spec';
import { UsageError } from './cli-errors';
import { closest } from './closest';
import { commandUsage, globalUsage, optionWords, PROGRAM } from './usage';

/** What to do with a command line: print a usage text (and exit with `status`), or run a command. */
export type CommandLine =
  | { readonly kind: 'usage'; readonly text: string; readonly status: 0 | 2 }
  | { readonly kind: 'run'; readonly command: CommandSpec; readonly args: ParsedArgs };

const HELP: OptionSpec = { type: 'boolean', description: 'show this help' };

/**
 * Reads a command line against the command table with Node's `util.parseArgs` in strict mode.
 * `--help` (or `-h`) anywhere after a command shows that command's usage, even beside a mistake;
 * every other mistake is a UsageError of one line that says what the command does take.
 */
export function readCommandLine(argv: readonly string[], commands: readonly CommandSpec[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'usage', text: globalUsage(commands), status: 2 };
  if (first === '--help' || first === '-h') return { kind: 'usage', text: globalUsage(commands), status: 0 };
  if (first === 'help') {
    const [topic, ...extra] = rest;
    if (extra.length > 0) throw new UsageError(`help takes one command name, but was given ${quoted(rest)}`);
    const general = topic === undefined || topic === '--help' || topic === '-h';
    return { kind: 'usage', text: general ? globalUsage(commands) : commandUsage(find(topic, commands)), status: 0 };
  }
  if (first.startsWith('-'))
    throw new UsageError(`the command comes first, before ${first}: ${PROGRAM} COMMAND [OPTIONS] ("${PROGRAM} --help" lists the commands)`);
  const command = find(first, commands);
  const config = configOf(command);
  const { tokens } = parseArgs({ ...config, args: rest, strict: false, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { kind: 'usage', text: commandUsage(command), status: 0 };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ ...config, args: rest, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(diagnose(command, tokens) ?? `${command.name}: ${(err as Error).message.split('\n')[0]}`);
  }
  // Stray words first: in "status --json H" the stray H says more about the mistake than the missing --home.
  const positionals = checkPositionals(command, parsed.positionals);
  const options: Record<string, string | boolean | undefined> = {};
  for (const [name, option] of Object.entries(command.options)) {
    const value = parsed.values[name];
    if (option.type === 'string' && value === '') throw new UsageError(`--${name} needs a value: ${optionWords(name, option)}`);
    options[name] = value ?? option.default;
    if (option.required && options[name] === undefined)
      throw new UsageError(`${command.name} needs ${optionWords(name, option)} (see "${PROGRAM} ${command.name} --help")`);
  }
  return { kind: 'run', command, args: { command: command.name, options, positionals } };
}

function find(name: string, commands: readonly CommandSpec[]): CommandSpec {
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  const names = commands.map((c) => c.name);
  const guess = closest(name, [...names, 'help']);
  throw new UsageError(
    guess
      ? `unknown command "${name}": did you mean "${guess}"? ("${PROGRAM} --help" lists the commands)`
      : `unknown command "${name}": the commands are ${names.join(', ')}`,
  );
}

function configOf(command: CommandSpec): ParseArgsConfig & { options: NonNullable<ParseArgsConfig['options']> } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(command.options)) options[name] = { type: option.type };
  return { options, allowPositionals: true };
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** Why strict parsing refused the line, found in the lenient parse's tokens, worded with the command's own options. */
function diagnose(command: CommandSpec, tokens: readonly Token[]): string | undefined {
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = token.name === 'help' ? HELP : command.options[token.name];
    if (!option) return unknownOption(command, token.rawName);
    if (option.type === 'boolean' && token.value !== undefined)
      return `--${token.name} takes no value: write just --${token.name}, without "=${token.value}"`;
    if (option.type === 'string' && token.value === undefined) return `--${token.name} needs a value: ${optionWords(token.name, option)}`;
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-'))
      return `--${token.name} needs a value, and "${token.value}" looks like an option: if it is the value, write --${token.name}=${token.value}`;
  }
  return undefined;
}

/** `server does not take --bogus; its options are --host, --port, --data, --rate-limit`. */
export function unknownOption(command: CommandSpec, raw: string): string {
  const names = Object.keys(command.options).map((n) => `--${n}`);
  const guess = raw.startsWith('--') ? closest(raw, names) : undefined;
  const hint = guess ? ` (did you mean ${guess}?)` : '';
  const list = names.length > 0 ? `; its options are ${names.join(', ')}` : '; it takes no options';
  return `${command.name} does not take ${raw}${hint}${list}`;
}

function checkPositionals(command: CommandSpec, words: readonly string[]): string[] {
  const specs = command.positionals ?? [];
  const variadic = specs.some((p) => p.variadic);
  const fixed = specs.filter((p) => !p.variadic);
  if (!variadic && words.length > fixed.length) {
    const extra = words.slice(fixed.length);
    const takes = fixed.length === 0 ? 'takes no arguments' : `takes only ${fixed.map((p) => p.name).join(' ')}`;
    return fail(`${command.name} ${takes}, but was also given ${quoted(extra)} (see "${PROGRAM} ${command.name} --help")`);
  }
  specs.forEach((p, i) => {
    if (p.required && words[i] === undefined) fail(`${command.name} needs ${p.name}: ${p.description}`);
  });
  return [...words];
}

function fail(message: string): never {
  throw new UsageError(message);
}

function quoted(words: readonly string[]): string {
  return words.map((w) => `"${w}"`).join(' ');
}
