import { StoreError } from '../../sync/ports/ports';
import { RendezvousError } from '../../sync/protocol/rendezvous';
import { AccountError, FolderNotEmptyError } from '../agent/account-error';
import { CodeError } from '../agent/codes';
import { HomeError } from '../agent/device-home';
import { CryptoError } from '../crypto/device-keys';
import { errnoOf } from '../disk/disk-errors';
import { ConnectError } from '../net/connect-failure';
import type { EngineErrorCode, ServerFailureReason } from './engine-protocol';
import { EngineError } from './engine-error';
import { HomeBusyError } from './home-claim';

/**
 * Maps anything thrown while serving a request to the code the extension shows a message for,
 * and one line of text (and, for a server that could not be reached, why). Unknown errors are 'internal' and keep their first line only: the
 * stack goes to the log, not to a notification.
 */
export function toEngineError(err: unknown): { code: EngineErrorCode; message: string; reason?: ServerFailureReason } {
  const line = (text: string): string => text.split('\n')[0]!.slice(0, 500);
  if (err instanceof EngineError) return { code: err.code, message: line(err.message) };
  if (err instanceof FolderNotEmptyError) return { code: 'notEmpty', message: line(err.message) };
  if (err instanceof AccountError || err instanceof CodeError) return { code: 'usage', message: line(err.message) };
  // Before HomeError, which it is.
  if (err instanceof HomeBusyError) return { code: 'busy', message: line(err.message) };
  if (err instanceof HomeError) return { code: 'notSetUp', message: line(err.message) };
  // Before RendezvousError, which it is: the reason lets the extension offer the fix (settings, retry).
  if (err instanceof ConnectError) return { code: 'server', message: line(err.message), reason: err.reason };
  if (err instanceof RendezvousError) return { code: 'server', message: line(err.message) };
  if (err instanceof CryptoError) return { code: 'crypto', message: line(err.message) };
  if (err instanceof StoreError || errnoOf(err)?.startsWith('E')) return { code: 'disk', message: line((err as Error).message) };
  return { code: 'internal', message: line(err instanceof Error ? err.message : String(err)) };
}
