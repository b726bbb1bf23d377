import * as nodePath from 'node:path';
import type { ServerConnection } from '../../node/agent/account';
import type { DeviceHome } from '../../node/agent/device-home';
import { CA_VARIABLE, CaFileError, trustedAuthorities } from '../../node/net/server-trust';
import { requiredOption, stringOption, type OptionSpec, type ParsedArgs } from '../command-spec';
import { CliError } from '../cli-errors';
import { existingHome } from '../cli-values';

/** The option almost every command takes: which device it speaks for. */
export const HOME_OPTION: OptionSpec = {
  type: 'string',
  value: 'H',
  description: "this device's home folder, with its keys and state",
  required: true,
};

/** Every command that connects to the server takes it: a private CA for a wss:// server. */
export const CA_OPTION: OptionSpec = {
  type: 'string',
  value: 'FILE',
  description: `PEM certificate of a private CA to trust for a wss:// server (or set ${CA_VARIABLE})`,
};

/**
 * How this command reaches the server: `--ca`, else the SHARED_FOLDERS_CA variable. The file is
 * checked here, so a wrong path is named before anything connects.
 */
export function connectionOf(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ServerConnection {
  const option = stringOption(args, 'ca');
  const given = option ?? (env[CA_VARIABLE] || undefined);
  if (given === undefined) return {};
  const caFile = nodePath.resolve(given);
  try {
    trustedAuthorities(caFile);
  } catch (err) {
    if (err instanceof CaFileError) throw new CliError(`${option !== undefined ? '--ca' : CA_VARIABLE}: ${err.message}`);
    throw err;
  }
  return { caFile };
}

export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print JSON instead of text' };

/** The home of `--home`, which must hold a device. */
export function homeOf(args: ParsedArgs): DeviceHome {
  return existingHome(requiredOption(args, 'home'));
}

/** `2026-12-07 12:31:05`, in local time: what a person reading a terminal expects. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
