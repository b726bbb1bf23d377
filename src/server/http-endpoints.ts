import type * as http from 'node:http';
import { RENDEZVOUS_VERSION } from '../sync/protocol/rendezvous';
import type { ServerContext } from './server-context';

/** Plain HTTP beside the WebSocket: `/healthz` for load balancers, `/metrics` for Prometheus. */
export async function onHttp(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version: RENDEZVOUS_VERSION }));
    } else if (req.method === 'GET' && req.url === '/metrics') {
      const body = ctx.metrics.render(await ctx.store.mailboxTotals());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    } else if (!res.headersSent && req.headers.upgrade === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  } catch (err) {
    ctx.log('httpError', { message: (err as Error).message });
    if (!res.headersSent) res.writeHead(500).end();
  }
}
