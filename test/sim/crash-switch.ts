/** Thrown by a simulated store once its replica has "crashed". */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

/**
 * Shared by one replica's file store and state store: once armed, the n-th next operation and
 * every one after it fail, as if the process had been killed with SIGKILL at that point.
 */
export class CrashSwitch {
  private remaining = -1;
  private tripped = false;

  armAfter(n: number): void {
    this.remaining = n;
  }

  get armed(): boolean {
    return this.remaining >= 0 && !this.tripped;
  }

  /** Whether the crash point was reached: by an operation the step waited for, or one it left running. */
  get hasTripped(): boolean {
    return this.tripped;
  }

  reset(): void {
    this.remaining = -1;
    this.tripped = false;
  }

  tick(): void {
    if (this.tripped) throw new SimulatedCrash();
    if (this.remaining < 0) return;
    if (this.remaining-- === 0) {
      this.tripped = true;
      throw new SimulatedCrash();
    }
  }
}
