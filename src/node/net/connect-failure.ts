import { RendezvousError } from '../../sync/protocol/rendezvous';
import { printable } from '../../sync/util/printable';

/**
 * Why a connection to the server could not be made, in words a user can act on: the socket
 * error's code (Node's errno and TLS codes) or the WebSocket library's handshake failure,
 * turned into a typed reason and one line that names the problem and the likely fix.
 */
export type ConnectFailureReason =
  | 'notAServer'
  | 'timedOut'
  | 'refused'
  | 'noSuchHost'
  | 'lookupFailed'
  | 'unreachable'
  | 'reset'
  | 'notTls'
  | 'untrustedCertificate'
  | 'wrongHostName'
  | 'expiredCertificate'
  | 'tls'
  | 'caFile'
  | 'closed'
  | 'other';

export interface ConnectFailure {
  readonly reason: ConnectFailureReason;
  readonly message: string;
}

/** A first sign-in that failed before the server was reached; `reason` says why, the message says what to do. */
export class ConnectError extends RendezvousError {
  constructor(
    readonly reason: ConnectFailureReason,
    message: string,
  ) {
    super('unauthenticated', message);
    this.name = 'ConnectError';
  }
}

/** Certificate chains that end in an authority this device does not trust. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

const PRIVATE_CA_FIX = 'if the server uses a private CA, give its certificate with --ca FILE or the sharedFolders.caFile setting';

export function connectFailure(url: string, err: Error): ConnectFailure {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = hostOf(url);
  const http = /^Unexpected server response: (\d+)/.exec(err.message);
  if (http)
    return {
      reason: 'notAServer',
      message: `${url} is not a Shared Folders server (it answered HTTP ${http[1]}): check the server address`,
    };
  if (/handshake has timed out/i.test(err.message) || code === 'ETIMEDOUT')
    return { reason: 'timedOut', message: `timed out connecting to ${url}: check the server address and that the server is reachable` };
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: 'refused', message: `cannot reach the server at ${url}: connection refused (is the server running?)` };
    case 'ENOTFOUND':
      return { reason: 'noSuchHost', message: `no such host: ${host} (check the server address)` };
    case 'EAI_AGAIN':
      return { reason: 'lookupFailed', message: `cannot look up the host ${host} right now: check the network connection` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { reason: 'unreachable', message: `cannot reach the server at ${url}: no route to ${host} (check the network connection)` };
    case 'ECONNRESET':
      return {
        reason: 'reset',
        message: `the connection to ${url} was cut before signing in: check that it is a Shared Folders server (ws:// or wss:// as it serves)`,
      };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return {
        reason: 'wrongHostName',
        message:
          `the server's certificate is not for the host name ${host} (${namesOf(err)}): ` +
          'connect by a name the certificate is for, or give the server a certificate for this name',
      };
    case 'CERT_HAS_EXPIRED':
      return {
        reason: 'expiredCertificate',
        message: `the server's certificate at ${url} has expired: the server's operator must renew it`,
      };
    case 'CERT_NOT_YET_VALID':
      return {
        reason: 'expiredCertificate',
        message: `the server's certificate at ${url} is not valid yet: check this device's clock, or the certificate's dates`,
      };
  }
  if (UNTRUSTED.has(code))
    return {
      reason: 'untrustedCertificate',
      message: `the server's certificate at ${url} is not signed by an authority this device trusts (${tlsReason(err)}): ${PRIVATE_CA_FIX}`,
    };
  if (isTls(code, err.message)) {
    if (/wrong version number|packet length too long|unknown protocol/i.test(err.message))
      return {
        reason: 'notTls',
        message: `TLS failure talking to ${url}: ${tlsReason(err)} (the server does not speak TLS: try ws:// instead of wss://)`,
      };
    return { reason: 'tls', message: `TLS failure talking to ${url}: ${tlsReason(err)}` };
  }
  return { reason: 'other', message: `cannot connect to ${url}: ${err.message}` };
}

/**
 * A connection the other side closed before sign-in without a socket error: the close code says
 * why (1006 is a close with no code at all, as a proxy that does not pass WebSockets gives).
 */
export function closeFailure(url: string, code: number, reason: string): ConnectFailure {
  const why = printable(`${code} ${reason}`.trim());
  switch (code) {
    case 1001:
      return { reason: 'closed', message: `the server at ${url} is going away (${why}): it is restarting or stopping; it is retried` };
    case 1013:
      return { reason: 'closed', message: `the server at ${url} is too busy to take the connection (${why}): try again later` };
    case 1006:
      return {
        reason: 'closed',
        message: `the connection to ${url} closed before signing in (${why}): check that it is a Shared Folders server and that nothing between blocks WebSockets`,
      };
    default:
      return { reason: 'closed', message: `the server at ${url} closed the connection before signing in (${why})` };
  }
}

function isTls(code: string, message: string): boolean {
  return (
    /^(ERR_SSL_|ERR_TLS_|EPROTO$)/.test(code) ||
    /CERT|^UNABLE_TO_|^SELF_SIGNED|^DEPTH_ZERO/.test(code) ||
    /SSL routines|certificate/i.test(message)
  );
}

/** OpenSSL's reason without the routine and source file around it (`...:SSL routines:ssl3_get_record:wrong version number:...`). */
function tlsReason(err: Error): string {
  const reason = (err as Error & { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(err.message);
  return (openssl ? openssl[1]! : err.message).trim();
}

/** The names a certificate is for, as its subjectAltName lists them: they come from the server, so escaped. */
function namesOf(err: Error): string {
  const names = (err as Error & { cert?: { subjectaltname?: unknown } }).cert?.subjectaltname;
  return typeof names === 'string' && names !== '' ? `it is for ${printable(names)}` : 'it names no host';
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
