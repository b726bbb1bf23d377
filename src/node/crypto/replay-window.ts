/** How many counters below the highest one received are still told apart (PROTOCOL.md R5). */
export const REPLAY_WINDOW = 4096;

/**
 * Which frame counters of a session were received: a ring of `REPLAY_WINDOW` bits below the
 * highest counter seen. A counter above the highest is new; one within the window is new unless
 * its bit is set; one older than the window is refused as if seen. The window is wide because a
 * session may run over two paths at once (the relay and a direct link, PROTOCOL.md R8), and
 * frames sent on the slower path arrive after many sent later on the faster one.
 */
export class ReplayWindow {
  private readonly bits = new Uint32Array(REPLAY_WINDOW / 32);
  private highest = -1;

  /** Whether `counter` was received already or is too old to tell. */
  seen(counter: number): boolean {
    if (counter > this.highest) return false;
    if (this.highest - counter >= REPLAY_WINDOW) return true;
    return this.bit(counter);
  }

  mark(counter: number): void {
    if (counter > this.highest) {
      // Slots of counters that leave the window are cleared before they are reused.
      const from = this.highest + 1;
      const shift = counter - this.highest;
      if (shift >= REPLAY_WINDOW) this.bits.fill(0);
      else for (let c = from; c <= counter; c++) this.setBit(c, false);
      this.highest = counter;
    }
    this.setBit(counter, true);
  }

  private bit(counter: number): boolean {
    const slot = counter % REPLAY_WINDOW;
    return (this.bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  private setBit(counter: number, on: boolean): void {
    const slot = counter % REPLAY_WINDOW;
    if (on) this.bits[slot >>> 5]! |= 1 << (slot & 31);
    else this.bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}
