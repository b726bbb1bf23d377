import { RendezvousError } from '../sync/protocol/rendezvous';
import { StoreError } from '../sync/ports/ports';
import { AccountError } from '../node/agent/account';
import { CodeError } from '../node/agent/codes';
import { HomeError } from '../node/agent/device-home';
import { CryptoError } from '../node/crypto/device-keys';
import { ConflictGone } from '../node/disk/conflict-resolution';
import { StateLockedError } from '../node/disk/state/state-journal';
import { EngineCallError } from '../node/engine/engine-client';

/** The command line itself is wrong (an unknown option, a bad value): exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A request that cannot be done as asked, already worded for the user: exit status 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEBUG_VARIABLE = 'SHARED_FOLDERS_DEBUG';

export interface Presented {
  /** One line, without the `shared-folders: ` prefix. */
  readonly line: string;
  readonly status: number;
  /** The stack, for SHARED_FOLDERS_DEBUG=1 only. */
  readonly details?: string;
}

/** Errors whose message already names the problem for a user. */
const WORDED = [CliError, AccountError, HomeError, CodeError, RendezvousError, CryptoError, EngineCallError, ConflictGone, StoreError];

/**
 * Any error as one line that names the problem and, where there is one, the fix. Never a stack:
 * an error nobody expected says so, with its message, and how to see the details.
 */
export function presentError(err: unknown): Presented {
  if (err instanceof UsageError) return { line: oneLine(err.message), status: 2 };
  if (err instanceof StateLockedError) return { line: stateLocked(err), status: 1 };
  if (WORDED.some((kind) => err instanceof kind)) return { line: oneLine((err as Error).message), status: 1 };
  const system = systemError(err);
  if (system) return { line: system, status: 1 };
  const message = err instanceof Error ? err.message : String(err);
  return {
    line: `unexpected error: ${oneLine(message) || 'no message'} (run again with ${DEBUG_VARIABLE}=1 to see the details)`,
    status: 1,
    ...(err instanceof Error && err.stack ? { details: err.stack } : {}),
  };
}

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

/** The journal's lock names the folder and the process; the user needs to know what that process is. */
function stateLocked(err: StateLockedError): string {
  const match = /^state folder (.+) is in use by process (\d+)$/.exec(err.message);
  const [dir, pid] = match ? [match[1], match[2]] : ['a replica state folder', 'another process'];
  return (
    `${dir} is in use by process ${pid}, a "shared-folders run" daemon or VS Code on the same home: ` +
    `stop that process, or wait until it exits, and try again`
  );
}

interface SystemError {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly address?: string;
  readonly port?: number;
}

function isSystemError(err: unknown): err is SystemError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

/** Node's errno errors, worded by what the user was doing: listening on a port, or using a path. */
function systemError(err: unknown): string | undefined {
  if (!isSystemError(err)) return undefined;
  if (err.syscall === 'listen' || err.syscall === 'bind') {
    const where = `port ${err.port ?? '?'} on ${err.address ?? '?'}`;
    if (err.code === 'EADDRINUSE') return `${where} is already in use by another program: choose another with --port`;
    if (err.code === 'EACCES' || err.code === 'EPERM')
      return `${where} needs privileges this user does not have: choose a port above 1023 with --port`;
    if (err.code === 'EADDRNOTAVAIL') return `${err.address ?? '--host'} is not an address of this machine: choose another with --host`;
    return `cannot listen on ${where} (${err.code}): choose another --host or --port`;
  }
  if (err.syscall === 'getaddrinfo' && err.code === 'ENOTFOUND')
    return `${err.path ?? (err as { hostname?: string }).hostname ?? 'the host'} is not a known host name: check --host`;
  if (err.path === undefined) return undefined;
  const path = err.path;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied: run as a user who may use it, or change its permissions`;
    case 'ENOENT':
      return `${path} does not exist: check the path`;
    case 'ENOTDIR':
      return `${path}: part of this path is a file, not a folder: check the path`;
    case 'EISDIR':
      return `${path} is a folder where a file was expected: check the path`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `${path}: the disk is full: free some space and try again`;
    case 'EROFS':
      return `${path} is on a read-only file system: choose a place you can write to`;
    case 'ENAMETOOLONG':
      return `${path}: the path is too long for this file system: choose a shorter one`;
    default:
      return `${path}: ${err.code}: check the path and try again`;
  }
}
