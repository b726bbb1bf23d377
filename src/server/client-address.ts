import type * as http from 'node:http';

/**
 * The address a connection comes from, as logs and per-address limits see it. Behind a reverse
 * proxy every socket comes from the proxy; with `trustProxy` the address is the last entry of
 * X-Forwarded-For, the one the proxy itself appended (earlier entries are the client's to
 * write, so they are never believed). Off by default: without a proxy in front, any client could
 * claim any address in that header.
 */
export function clientAddress(req: http.IncomingMessage, trustProxy: boolean): string {
  const socketAddress = req.socket.remoteAddress ?? '?';
  if (!trustProxy) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  const last = joined
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .pop();
  return last !== undefined && isAddressLike(last) ? last : socketAddress;
}

/** An IPv4 or IPv6 address, not arbitrary text for the log. */
function isAddressLike(text: string): boolean {
  return text.length <= 45 && /^[0-9A-Fa-f.:]+$/.test(text);
}
