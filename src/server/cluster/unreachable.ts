/**
 * A cluster's process cannot start without its database and its bus: these errors name the URL
 * and what to check, and the CLI prints them as they are.
 */

export class BusUnreachableError extends Error {
  constructor(url: string, cause: string) {
    super(`cannot reach NATS at ${withoutPassword(url)} (${cause}): check that nats-server runs there and that --bus names it`);
    this.name = 'BusUnreachableError';
  }
}

/** Errors of a database that does not answer, or does not let this user in, or has no such database. */
const CANNOT_CONNECT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '3D000', '28000', '28P01']);

/**
 * The PostgreSQL store did not open: its message names the database; where it could not connect,
 * this says what to check.
 */
export class DatabaseOpenError extends Error {
  constructor(err: Error) {
    const code = (err.cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code;
    const unreachable = CANNOT_CONNECT.has(String(code)) || /timeout|terminated/i.test(err.message);
    super(
      unreachable
        ? `${err.message}: check that PostgreSQL runs there, that the database exists and that its user may connect`
        : err.message,
    );
    this.name = 'DatabaseOpenError';
  }
}

/** A URL as it may be printed: its password, if any, replaced. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
