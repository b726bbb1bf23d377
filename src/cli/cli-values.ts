import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Role } from '../sync/protocol/rendezvous';
import { DeviceHome } from '../node/agent/device-home';
import { CliError, UsageError } from './cli-errors';

/**
 * Option values checked before anything is done with them, each refused in one line that says
 * what a good value looks like.
 */

export function portNumber(text: string, option = '--port'): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`${option} ${text} is not a port number: give a whole number from 1 to 65535 (0 picks a free one)`);
  return port;
}

export function positiveNumber(text: string, option: string, unit: string, example: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`${option} ${text} is not a number of ${unit}: give a positive number, such as ${example}`);
  return n;
}

/** A bandwidth limit given in KiB per second, in bytes per second. */
export function kibPerSecond(text: string | undefined, option: string): number | undefined {
  return text === undefined ? undefined : positiveNumber(text, option, 'KiB per second', '512') * 1024;
}

export function role(text: string): Exclude<Role, 'owner'> {
  if (text !== 'editor' && text !== 'reader') throw new UsageError(`--role ${text} is not a role: use editor or reader`);
  return text;
}

export type KeepChoice = 'mine' | 'theirs' | 'both';

export function keepChoice(text: string): KeepChoice {
  if (text !== 'mine' && text !== 'theirs' && text !== 'both')
    throw new UsageError(`--keep ${text} is not a choice: use mine, theirs or both`);
  return text;
}

/** A rendezvous server's address: ws:// or wss://, with a host. `example.org:7070` parses as a URL of scheme `example.org:`. */
export function serverAddress(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.hostname === '')
    throw new UsageError(`--server ${text} is not a server address: write it as ws://HOST:PORT or wss://HOST`);
  return text;
}

/** A comma-separated list of names, each trimmed; empty items dropped. */
export function nameList(text: string, option: string): string[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`${option} needs at least one name, such as ${option} bob or ${option} bob,carol`);
  return names;
}

/** The home of a device that exists: refused in one line when the folder is missing, unreadable or holds no device. */
export function existingHome(text: string): DeviceHome {
  const dir = nodePath.resolve(text);
  const stat = statOf(dir);
  if (!stat)
    throw new CliError(
      `--home ${text} does not exist: check the path, or make a device there with "shared-folders init --home ${text} ..."`,
    );
  if (!stat.isDirectory()) throw new CliError(`--home ${text} is a file, not a folder: give the folder "shared-folders init" made`);
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    if (fs.existsSync(nodePath.join(dir, 'identity.json'))) fs.accessSync(nodePath.join(dir, 'identity.json'), fs.constants.R_OK);
  } catch {
    throw new CliError(`--home ${text} cannot be read and written by this user: run as the user who made it, or change its permissions`);
  }
  const home = new DeviceHome(dir);
  if (!home.exists)
    throw new CliError(`--home ${text} holds no device: make one with "shared-folders init --home ${text} --name NAME --server URL"`);
  return home;
}

/** The home `init` makes a device in: missing or empty of a device. */
export function newHome(text: string): DeviceHome {
  const dir = nodePath.resolve(text);
  const stat = statOf(dir);
  if (stat && !stat.isDirectory()) throw new CliError(`--home ${text} is a file, not a folder: choose a folder for this device`);
  const home = new DeviceHome(dir);
  if (home.exists) throw new CliError(`--home ${text} already holds a device: choose another folder for a new one`);
  return home;
}

/** A folder to share: it must be there. */
export function existingFolder(text: string, option: string): string {
  const path = nodePath.resolve(text);
  const stat = statOf(path);
  if (!stat) throw new CliError(`${option} ${text} does not exist: create the folder first, or check the path`);
  if (!stat.isDirectory()) throw new CliError(`${option} ${text} is a file: give a folder`);
  return path;
}

/** A folder that is made when missing, but must not be a file. */
export function folderToBe(text: string, option: string): string {
  const path = nodePath.resolve(text);
  const stat = statOf(path);
  if (stat && !stat.isDirectory()) throw new CliError(`${option} ${text} is a file: give a folder (it is created if missing)`);
  return path;
}

function statOf(path: string): fs.Stats | undefined {
  try {
    return fs.statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}
