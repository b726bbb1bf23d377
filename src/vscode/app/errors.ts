import type { EngineErrorCode, ServerFailureReason } from '../../node/engine/engine-protocol';
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
  /** With code `server`: why the server could not be reached. */
  readonly reason?: ServerFailureReason;
}

/**
 * A failure with the one way to try the same thing again (Set Up with the name already typed):
 * the command wrapper reports `cause` and offers Retry when the report is retryable.
 */
export class Retryable extends Error {
  constructor(
    override readonly cause: unknown,
    readonly retry: () => Promise<unknown>,
    /** Which attempt failed: from the second on the message says so (VS Code merges identical messages into one). */
    readonly attempt = 1,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'Retryable';
  }
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
  /** The server could not be reached: offer "Open Settings" on this setting, and "Retry". */
  readonly serverSetting?: 'sharedFolders.server' | 'sharedFolders.caFile';
}

/** The message the one command wrapper shows for an error; undefined for a cancellation. */
export function reportFor(error: unknown, l10n: Localizer): ErrorReport | undefined {
  if (error instanceof Retryable) {
    const report = reportFor(error.cause, l10n);
    return report && error.attempt > 1 ? { ...report, message: l10n.t('{0} (attempt {1})', report.message, error.attempt) } : report;
  }
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
        if (error.reason !== undefined) return unreachableReport(error.reason, error.message, l10n);
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

/** Why the server could not be reached, in a few words a user can act on. */
export function unreachableReason(reason: ServerFailureReason, l10n: Localizer): string {
  switch (reason) {
    case 'refused':
      return l10n.t('connection refused (no server is listening at that address: is it running?)');
    case 'noSuchHost':
      return l10n.t('no such host (check the server address)');
    case 'lookupFailed':
      return l10n.t('the host name could not be looked up (check the network connection)');
    case 'unreachable':
      return l10n.t('no route to the server (check the network connection)');
    case 'timedOut':
      return l10n.t('timed out (check the address, and that the server is reachable from here)');
    case 'reset':
      return l10n.t('the connection was cut before signing in (is it a Shared Folders server, ws:// or wss:// as it serves?)');
    case 'notAServer':
      return l10n.t('the address answers, but not as a Shared Folders server');
    case 'notTls':
      return l10n.t('TLS problem: the server does not speak TLS (try ws:// instead of wss://)');
    case 'untrustedCertificate':
      return l10n.t("TLS problem: the server's certificate is not trusted (for a private CA, set sharedFolders.caFile)");
    case 'wrongHostName':
      return l10n.t("TLS problem: the server's certificate is for another host name");
    case 'expiredCertificate':
      return l10n.t("TLS problem: the server's certificate has expired or is not valid yet");
    case 'tls':
      return l10n.t('TLS problem');
    case 'caFile':
      return l10n.t('the CA file in sharedFolders.caFile could not be read');
    case 'closed':
      return l10n.t('the server closed the connection before signing in');
    case 'other':
      return l10n.t('the connection failed');
  }
}

const CERTIFICATE_REASONS: ReadonlySet<ServerFailureReason> = new Set<ServerFailureReason>(['untrustedCertificate', 'caFile']);

function unreachableReport(reason: ServerFailureReason, detail: string, l10n: Localizer): ErrorReport {
  return {
    message: l10n.t('Could not reach the Shared Folders server: {0}. Details: {1}', unreachableReason(reason, l10n), detail),
    offerSetUp: false,
    severity: 'error',
    serverSetting: CERTIFICATE_REASONS.has(reason) ? 'sharedFolders.caFile' : 'sharedFolders.server',
  };
}

/** What a `ws://` or `wss://` server address input is missing, or undefined when it is one. */
export function serverAddressProblem(value: string, l10n: Localizer): string | undefined {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return l10n.t('Write the address as ws://HOST:PORT or wss://HOST');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return l10n.t('The address starts with ws:// or wss://');
  if (url.hostname === '') return l10n.t('The address needs a host name');
  return undefined;
}
