import type * as http from 'node:http';
import { RENDEZVOUS_VERSION } from '../sync/protocol/rendezvous';
import type { ServerContext } from './server-context';

/**
 * The public port's plain HTTP beside the WebSocket: `/healthz` for load balancers, nothing else.
 * Counters are not for everyone: `/metrics` is served only on its own listener (onMetricsHttp).
 */
export function onPublicHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'GET' && req.url === '/healthz') health(res);
  else if (!res.headersSent && req.headers.upgrade === undefined) notFound(res);
}

/** The metrics listener (`--metrics-host`): `/metrics` for Prometheus, and `/healthz`. */
export async function onMetricsHttp(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    if (req.method === 'GET' && req.url === '/metrics') {
      const body = ctx.metrics.render(await ctx.store.mailboxTotals());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    } else if (req.method === 'GET' && req.url === '/healthz') health(res);
    else notFound(res);
  } catch (err) {
    ctx.log('httpError', { message: (err as Error).message });
    if (!res.headersSent) res.writeHead(500).end();
  }
}

function health(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version: RENDEZVOUS_VERSION }));
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}
