import type { EngineErrorCode } from '../../node/engine/engine-protocol';
import type { Localizer } from './localizer';
import type { CommandId } from './commands';

/** The user dismissed a QuickPick, InputBox or dialog: the command ends quietly. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

/** A problem the user can fix, with a message written for them (already localized). */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly action?: { readonly title: string; readonly command: CommandId },
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}

/** The engine host is not running: restricted mode, still starting, or crashed. */
export class EngineNotReady extends Error {
  constructor(readonly reason: 'untrusted' | 'starting' | 'stopped') {
    super(`engine not ready: ${reason}`);
    this.name = 'EngineNotReady';
  }
}

export interface EngineFailure {
  readonly code: EngineErrorCode;
  readonly message: string;
}

const CODES: ReadonlySet<string> = new Set<EngineErrorCode>([
  'usage',
  'notEmpty',
  'notSetUp',
  'busy',
  'server',
  'crypto',
  'disk',
  'internal',
]);

/** An error response of the engine host, whatever class the client wraps it in. */
export function isEngineFailure(e: unknown): e is EngineFailure {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    CODES.has((e as { code: string }).code) &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

export interface ErrorReport {
  readonly message: string;
  /** Offer "Set Up" next to "Open Log". */
  readonly offerSetUp: boolean;
  readonly severity: 'error' | 'warning';
}

/** The message the one command wrapper shows for an error; undefined for a cancellation. */
export function reportFor(error: unknown, l10n: Localizer): ErrorReport | undefined {
  if (error instanceof Cancelled) return undefined;
  if (error instanceof UserFacingError) return { message: error.message, offerSetUp: false, severity: 'warning' };
  if (error instanceof EngineNotReady) {
    switch (error.reason) {
      case 'untrusted':
        return {
          message: l10n.t('Shared Folders is off in Restricted Mode. Trust this workspace to sync.'),
          offerSetUp: false,
          severity: 'warning',
        };
      case 'starting':
        return { message: l10n.t('Shared Folders is still starting. Try again in a moment.'), offerSetUp: false, severity: 'warning' };
      case 'stopped':
        return { message: l10n.t('The Shared Folders engine stopped. See the log for details.'), offerSetUp: false, severity: 'error' };
    }
  }
  if (isEngineFailure(error)) {
    switch (error.code) {
      case 'notSetUp':
        return { message: l10n.t('Set up Shared Folders first.'), offerSetUp: true, severity: 'warning' };
      case 'usage':
      case 'notEmpty':
        return { message: error.message, offerSetUp: false, severity: 'warning' };
      case 'busy':
        return { message: busyMessage(error.message, l10n), offerSetUp: false, severity: 'warning' };
      case 'server':
        return { message: l10n.t('The server could not do this: {0}', error.message), offerSetUp: false, severity: 'error' };
      case 'crypto':
        return { message: l10n.t('A security check failed: {0}', error.message), offerSetUp: false, severity: 'error' };
      case 'disk':
        return { message: l10n.t('A file could not be read or written: {0}', error.message), offerSetUp: false, severity: 'error' };
      case 'internal':
        return { message: l10n.t('Something went wrong in Shared Folders: {0}', error.message), offerSetUp: false, severity: 'error' };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: l10n.t('Something went wrong in Shared Folders: {0}', message), offerSetUp: false, severity: 'error' };
}

/** Another process (a `shared-folders run`, another window) runs this device's home: sync goes on there, not here. */
export function busyMessage(detail: string, l10n: Localizer): string {
  return l10n.t(
    'Shared Folders is not syncing in this window: {0}. Stop that process, or close its window, and this one takes over.',
    detail,
  );
}
