import type { Clock } from '../../src/sync/ports/clock';

/** Simulated time, advanced only by the driver. */
export class SimTime {
  private ms = Date.UTC(2026, 0, 1);

  now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}

/** One replica's clock: simulated time plus a fixed skew, as a badly set computer clock. */
export class SkewedClock implements Clock {
  constructor(
    private readonly time: SimTime,
    private readonly skewMs: number,
  ) {}

  now(): number {
    return this.time.now() + this.skewMs;
  }
}
