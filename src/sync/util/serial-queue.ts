/**
 * Runs async steps one at a time, in the order they were queued. A step's result or error goes to
 * the one who queued it; a failing step never stops the steps queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Steps queued and not started yet. */
  get pending(): number {
    return this.waiting;
  }

  run<T>(step: () => T | Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(() => {
      this.waiting--;
      return step();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every step queued so far has finished, whatever its outcome. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
