import type * as http from 'node:http';
import { RENDEZVOUS_VERSION } from '../sync/protocol/rendezvous';
import type { ServerContext } from './server-context';

/**
 * The public port's plain HTTP beside the WebSocket: `/healthz` for load balancers, nothing else.
 * Counters are not for everyone: `/metrics` is served only on its own listener (onMetricsHttp).
 */
export async function onPublicHttp(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    if (req.method === 'GET' && req.url === '/healthz') await health(ctx, res);
    else if (!res.headersSent && req.headers.upgrade === undefined) notFound(res);
  } catch (err) {
    ctx.log('httpError', { message: (err as Error).message });
    if (!res.headersSent) res.writeHead(500).end();
  }
}

/** The metrics listener (`--metrics-host`): `/metrics` for Prometheus, and `/healthz`. */
export async function onMetricsHttp(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    if (req.method === 'GET' && req.url === '/metrics') {
      const body = ctx.metrics.render(await ctx.store.mailboxTotals(), {
        ...ctx.cluster.figures(),
        localSessions: ctx.signedIn.localCount,
        remoteSessions: ctx.signedIn.remoteSessionCount,
      });
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    } else if (req.method === 'GET' && req.url === '/healthz') await health(ctx, res);
    else notFound(res);
  } catch (err) {
    ctx.log('httpError', { message: (err as Error).message });
    if (!res.headersSent) res.writeHead(500).end();
  }
}

/**
 * 200 while the database and the bus both answer, 503 otherwise, so a load balancer sends
 * devices to another process. `bus` is 'local' for a single process, which has none.
 */
async function health(ctx: ServerContext, res: http.ServerResponse): Promise<void> {
  const [database, bus] = await Promise.all([databaseHealth(ctx), ctx.cluster.health()]);
  const ok = database === 'ok' && bus !== 'down';
  const body = { status: ok ? 'ok' : 'unavailable', version: RENDEZVOUS_VERSION, node: ctx.cluster.nodeId, database, bus };
  if (res.headersSent || res.destroyed) return;
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function databaseHealth(ctx: ServerContext): Promise<'ok' | 'down'> {
  try {
    await ctx.store.health();
    return 'ok';
  } catch (err) {
    ctx.log('databaseUnhealthy', { message: (err as Error).message });
    return 'down';
  }
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}
