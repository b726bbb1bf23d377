/**
 * Decides when a transfer deserves a progress notification: only long ones, so that saving a file
 * never flashes a popup. A transfer is long when it is large or has been running a while.
 */
export interface TransferUpdate {
  readonly space: string;
  readonly files: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface TransferState {
  readonly space: string;
  readonly startedAt: number;
  readonly files: number;
  readonly bytes: number;
  readonly totalBytes: number;
  /** Fraction done, 0..1. */
  readonly fraction: number;
  readonly done: boolean;
}

export const LONG_TRANSFER_BYTES = 8 * 1024 * 1024;
export const LONG_TRANSFER_MS = 3_000;

export class TransferTracker {
  private readonly transfers = new Map<string, TransferState>();

  update(u: TransferUpdate, now: number): TransferState {
    const previous = this.transfers.get(u.space);
    const done = u.totalBytes <= 0 || u.bytes >= u.totalBytes;
    const state: TransferState = {
      space: u.space,
      startedAt: previous && !previous.done ? previous.startedAt : now,
      files: u.files,
      bytes: u.bytes,
      totalBytes: u.totalBytes,
      fraction: u.totalBytes > 0 ? Math.min(1, u.bytes / u.totalBytes) : 1,
      done,
    };
    if (done) this.transfers.delete(u.space);
    else this.transfers.set(u.space, state);
    return state;
  }

  isLong(state: TransferState, now: number): boolean {
    return !state.done && (state.totalBytes >= LONG_TRANSFER_BYTES || now - state.startedAt >= LONG_TRANSFER_MS);
  }

  active(space: string): TransferState | undefined {
    return this.transfers.get(space);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
