import type { MessagePort } from '../../src/sync/ports/ports';
import type { Message } from '../../src/sync/protocol/messages';
import type { Prng } from './prng';

export interface Delivery {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

export interface Faults {
  readonly drop: number;
  readonly duplicate: number;
}

export interface NetworkOptions {
  /** Applied at send time; the simulation plugs in the real codec (encode, then decode). */
  readonly transform?: (m: Message) => Message;
  readonly sizeOf?: (m: Message) => number;
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * A network that loses, duplicates and reorders: the driver pulls one queued message at a time,
 * chosen by the seeded PRNG. Links are up by default; a message on a down link is lost.
 */
export class SimNetwork {
  faults: Faults = { drop: 0, duplicate: 0 };
  delivered = 0;
  bytes = 0;
  private readonly queue: Delivery[] = [];
  private readonly down = new Set<string>();

  constructor(private readonly options: NetworkOptions = {}) {}

  port(node: string): MessagePort {
    return {
      send: (to, message) => {
        if (!this.connected(node, to)) return;
        const m = this.options.transform ? this.options.transform(message) : message;
        this.bytes += this.options.sizeOf?.(m) ?? 0;
        this.queue.push({ from: node, to, message: m });
      },
    };
  }

  connected(a: string, b: string): boolean {
    return !this.down.has(linkKey(a, b));
  }

  setLink(a: string, b: string, up: boolean): void {
    if (up) this.down.delete(linkKey(a, b));
    else {
      this.down.add(linkKey(a, b));
      this.dropWhere((d) => linkKey(d.from, d.to) === linkKey(a, b));
    }
  }

  pending(): number {
    return this.queue.length;
  }

  dropAllTo(node: string): void {
    this.dropWhere((d) => d.to === node);
  }

  private dropWhere(match: (d: Delivery) => boolean): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (match(this.queue[i]!)) this.queue.splice(i, 1);
  }

  /** Removes and returns a random queued message, or undefined; may drop or duplicate it. */
  deliverOne(rng: Prng): Delivery | undefined {
    for (let attempts = 0; attempts < 1000 && this.queue.length > 0; attempts++) {
      const i = rng.int(this.queue.length);
      const d = this.queue[i]!;
      if (rng.chance(this.faults.duplicate)) this.queue.push(d);
      this.queue.splice(i, 1);
      if (rng.chance(this.faults.drop)) continue;
      this.delivered++;
      return d;
    }
    return undefined;
  }
}
