/**
 * NATS refuses messages over its max_payload (1 MiB by default) and relay frames may be 16 MiB:
 * a larger message goes as numbered parts and is put back together on arrival. Memory for
 * incomplete messages is bounded; a message whose parts stop coming is dropped after a while
 * (its sender hears no answer and gives up on it).
 */
export class MessageAssembly {
  private readonly pending = new Map<string, { parts: (Uint8Array | undefined)[]; got: number; bytes: number; started: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
  ) {}

  /** Adds part `i` of `n`; returns the whole message once its last part is in, else undefined. */
  add(key: string, i: number, n: number, chunk: Uint8Array, now: number): Uint8Array | undefined {
    this.expire(now);
    if (!Number.isInteger(n) || !Number.isInteger(i) || n < 1 || i < 0 || i >= n) return undefined;
    let entry = this.pending.get(key);
    if (!entry) {
      // Parts of one message arrive in order: a message met first past its first part lost that part.
      if (i !== 0) return undefined;
      entry = { parts: new Array<Uint8Array | undefined>(n), got: 0, bytes: 0, started: now };
      this.pending.set(key, entry);
    }
    if (entry.parts.length !== n || entry.parts[i]) return undefined;
    if (this.bytes + chunk.length > this.maxBytes) {
      this.drop(key);
      return undefined;
    }
    entry.parts[i] = chunk.slice();
    entry.got++;
    entry.bytes += chunk.length;
    this.bytes += chunk.length;
    if (entry.got < n) return undefined;
    this.drop(key);
    const whole = new Uint8Array(entry.bytes);
    let at = 0;
    for (const part of entry.parts as Uint8Array[]) {
      whole.set(part, at);
      at += part.length;
    }
    return whole;
  }

  /** Bytes held for incomplete messages. */
  get held(): number {
    return this.bytes;
  }

  private expire(now: number): void {
    for (const [key, entry] of this.pending) if (now - entry.started > this.timeoutMs) this.drop(key);
  }

  private drop(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.pending.delete(key);
  }
}

/** Cuts `bytes` into pieces of at most `size`. */
export function splitBytes(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
  return pieces;
}
