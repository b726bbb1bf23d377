/**
 * Why a connection to the server could not be made, in words a user can act on: the socket
 * error's code (Node's errno and TLS codes) or the WebSocket library's handshake failure,
 * turned into one line that names the problem and the likely fix.
 */
export function connectFailure(url: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = hostOf(url);
  const http = /^Unexpected server response: (\d+)/.exec(err.message);
  if (http) return `${url} is not a Shared Folders server (it answered HTTP ${http[1]}): check the server address`;
  if (/handshake has timed out/i.test(err.message) || code === 'ETIMEDOUT')
    return `timed out connecting to ${url}: check the server address and that the server is reachable`;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot reach the server at ${url}: connection refused (is the server running?)`;
    case 'ENOTFOUND':
      return `no such host: ${host} (check the server address)`;
    case 'EAI_AGAIN':
      return `cannot look up the host ${host} right now: check the network connection`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach the server at ${url}: no route to ${host} (check the network connection)`;
    case 'ECONNRESET':
      return `the connection to ${url} was cut before signing in: check that it is a Shared Folders server (ws:// or wss:// as it serves)`;
  }
  if (isTls(code, err.message)) {
    const hint = /wrong version number|packet length too long|unknown protocol/i.test(err.message)
      ? ' (the server does not speak TLS: try ws:// instead of wss://)'
      : /SELF_SIGNED|DEPTH_ZERO|UNABLE_TO_(GET_ISSUER|VERIFY)/.test(code)
        ? ' (its certificate is not trusted here: give the server one from a public authority, or point NODE_EXTRA_CA_CERTS at its CA)'
        : '';
    return `TLS failure talking to ${url}: ${tlsReason(err)}${hint}`;
  }
  return `cannot connect to ${url}: ${err.message}`;
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

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
