import type { Connection } from '../connection';

/**
 * The bytes one sender connection has relayed to other processes that are not answered yet.
 * While they would exceed the window the sender's socket is paused, so TCP slows the sender to
 * what the targets take, as it does between two devices on one process (room-toward.ts).
 */
export class RelayWindow {
  private readonly unanswered = new WeakMap<Connection, number>();
  private readonly waiters = new WeakMap<Connection, (() => void)[]>();

  constructor(private readonly windowBytes: number) {}

  /**
   * Reserves `bytes` for `sender`, waiting while its window is full (one frame always fits an
   * empty window). False when the sender's socket closed meanwhile.
   */
  async reserve(sender: Connection, bytes: number): Promise<boolean> {
    if (this.fits(sender, bytes)) return this.take(sender, bytes);
    const wasPaused = sender.socket.isPaused;
    sender.socket.pause();
    try {
      while (!this.fits(sender, bytes)) {
        if (sender.socket.readyState !== sender.socket.OPEN) return false;
        await new Promise<void>((resolve) => {
          let list = this.waiters.get(sender);
          if (!list) this.waiters.set(sender, (list = []));
          list.push(resolve);
        });
      }
      return sender.socket.readyState === sender.socket.OPEN && this.take(sender, bytes);
    } finally {
      if (!wasPaused) sender.socket.resume();
    }
  }

  /** An answer came (or none will): the bytes leave the window and a waiting frame may go. */
  release(sender: Connection, bytes: number): void {
    this.unanswered.set(sender, Math.max(0, (this.unanswered.get(sender) ?? 0) - bytes));
    this.wake(sender);
  }

  /** The sender's socket closed: whoever waits finds out. */
  wake(sender: Connection): void {
    const list = this.waiters.get(sender);
    this.waiters.delete(sender);
    for (const resolve of list ?? []) resolve();
  }

  private fits(sender: Connection, bytes: number): boolean {
    const now = this.unanswered.get(sender) ?? 0;
    return now === 0 || now + bytes <= this.windowBytes;
  }

  private take(sender: Connection, bytes: number): true {
    this.unanswered.set(sender, (this.unanswered.get(sender) ?? 0) + bytes);
    return true;
  }
}
