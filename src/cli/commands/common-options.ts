import type { DeviceHome } from '../../node/agent/device-home';
import { requiredOption, type OptionSpec, type ParsedArgs } from '../command-spec';
import { existingHome } from '../cli-values';

/** The option almost every command takes: which device it speaks for. */
export const HOME_OPTION: OptionSpec = {
  type: 'string',
  value: 'H',
  description: "this device's home folder, with its keys and state",
  required: true,
};

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
