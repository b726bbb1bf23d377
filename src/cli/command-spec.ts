/**
 * What the command table says about each command: its options, its arguments and the function
 * that runs it. Parsing (command-line.ts), usage texts (usage.ts) and the unknown-option message
 * are all derived from it, so a new option is declared once.
 */

export interface OptionSpec {
  /** A boolean option is a flag: it never takes the next word as its value. */
  readonly type: 'string' | 'boolean';
  /** The value's name in usage lines, such as PORT; string options only. */
  readonly value?: string;
  readonly description: string;
  readonly required?: boolean;
  /** Shown in the usage and used when the option is left out. */
  readonly default?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** Takes every remaining word (a chat message). */
  readonly variadic?: boolean;
}

/** A command line as parsed against its command's spec: options by name (without `--`). */
export interface ParsedArgs {
  readonly command: string;
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export interface CommandSpec {
  readonly name: string;
  /** One line, lower case, no full stop: the global usage lists it. */
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly positionals?: readonly PositionalSpec[];
  /** Usage lines when a command has several forms (init, chat); derived from the options otherwise. */
  readonly forms?: readonly string[];
  /** Said after the options in the command's help. */
  readonly notes?: readonly string[];
  /** Resolves with the exit status, 0 when it returns nothing. */
  readonly run: (args: ParsedArgs) => Promise<number | void>;
}

/** A string option's value; required options are checked before `run` is called. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined) throw new Error(`--${name} was declared required but is missing`);
  return value;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}
