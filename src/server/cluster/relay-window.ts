import type { Connection } from '../connection';

/**
 * The bytes relayed to other processes that are not answered yet, bounded twice: per sender
 * connection, and per target process for all senders together. While either bound would be
 * exceeded the sender's socket is paused, so TCP slows the sender to what the targets take, as it
 * does between two devices on one process (room-toward.ts). The second bound is what keeps many
 * senders from flooding one process faster than it reads the bus: NATS would then see it as a
 * slow consumer or a stale connection, and drop what was in flight.
 */
export class RelayWindow {
  private readonly unanswered = new WeakMap<Connection, number>();
  private readonly toNode = new Map<string, number>();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly windowBytes: number,
    private readonly nodeWindowBytes: number,
  ) {}

  /**
   * Reserves `bytes` for `sender` toward `node`, waiting while a window is full (one frame always
   * fits an empty window). False when the sender's socket closed meanwhile.
   */
  async reserve(sender: Connection, node: string, bytes: number): Promise<boolean> {
    if (this.fits(sender, node, bytes)) return this.take(sender, node, bytes);
    const wasPaused = sender.socket.isPaused;
    sender.socket.pause();
    try {
      while (!this.fits(sender, node, bytes)) {
        if (sender.socket.readyState !== sender.socket.OPEN) return false;
        await new Promise<void>((resolve) => this.waiters.add(resolve));
      }
      return sender.socket.readyState === sender.socket.OPEN && this.take(sender, node, bytes);
    } finally {
      if (!wasPaused) sender.socket.resume();
    }
  }

  /** An answer came (or none will): the bytes leave both windows and waiting frames may go. */
  release(sender: Connection, node: string, bytes: number): void {
    this.unanswered.set(sender, Math.max(0, (this.unanswered.get(sender) ?? 0) - bytes));
    const left = (this.toNode.get(node) ?? 0) - bytes;
    if (left > 0) this.toNode.set(node, left);
    else this.toNode.delete(node);
    this.wake();
  }

  /** Bytes unanswered toward `node`, all senders together. */
  unansweredToward(node: string): number {
    return this.toNode.get(node) ?? 0;
  }

  /** Something changed (an answer, a closed socket): every waiting sender looks again. */
  wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiting) resolve();
  }

  private fits(sender: Connection, node: string, bytes: number): boolean {
    const mine = this.unanswered.get(sender) ?? 0;
    const all = this.toNode.get(node) ?? 0;
    return (mine === 0 || mine + bytes <= this.windowBytes) && (all === 0 || all + bytes <= this.nodeWindowBytes);
  }

  private take(sender: Connection, node: string, bytes: number): true {
    this.unanswered.set(sender, (this.unanswered.get(sender) ?? 0) + bytes);
    this.toNode.set(node, (this.toNode.get(node) ?? 0) + bytes);
    return true;
  }
}
