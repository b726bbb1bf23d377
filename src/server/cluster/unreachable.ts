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

export class DatabaseUnreachableError extends Error {
  constructor(url: string, cause: string) {
    super(
      `cannot open the PostgreSQL database ${withoutPassword(url)} (${cause}): check that PostgreSQL runs there, that the database exists and that its user may connect`,
    );
    this.name = 'DatabaseUnreachableError';
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
