import type { JsonLog } from './json-log';

type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

interface Burst {
  readonly event: string;
  readonly fields: Fields;
  count: number;
  lastAt: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Logs a burst of like events (refused connections from one address, say) as two lines: the
 * first event at once, and when the events have stopped for `quietMs`, how many there were. A
 * flood of thousands is two lines, not thousands.
 */
export class BurstLog {
  private readonly bursts = new Map<string, Burst>();

  constructor(
    private readonly log: JsonLog,
    private readonly quietMs = 10_000,
  ) {}

  note(event: string, key: string, fields: Fields): void {
    const id = `${event}\n${key}`;
    const now = Date.now();
    const burst = this.bursts.get(id);
    if (burst) {
      burst.count++;
      burst.lastAt = now;
      return;
    }
    this.log(event, fields);
    const timer = setInterval(() => {
      if (Date.now() - this.bursts.get(id)!.lastAt >= this.quietMs) this.end(id);
    }, this.quietMs);
    timer.unref();
    this.bursts.set(id, { event, fields, count: 1, lastAt: now, timer });
  }

  /** Ends every burst at once, with its count (at shutdown). */
  flush(): void {
    for (const id of [...this.bursts.keys()]) this.end(id);
  }

  private end(id: string): void {
    const b = this.bursts.get(id)!;
    clearInterval(b.timer);
    this.bursts.delete(id);
    this.log(`${b.event}Ended`, { ...b.fields, count: b.count });
  }
}
