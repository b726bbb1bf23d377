import type * as fc from 'fast-check';

/**
 * One decoder under fuzz: inputs (random bytes and mutations of valid encodings), what the decoder
 * may throw, and the properties checked on each input. `run` throws `FuzzViolation` for a broken
 * property; anything else it throws must pass `isAllowed` (the decoder's own typed error).
 */
export interface FuzzTarget<T> {
  readonly name: string;
  /** The decoders it covers, for the report. */
  readonly covers: string;
  /** The errors the decoder may throw, for the report. */
  readonly allowed: string;
  readonly input: fc.Arbitrary<T>;
  readonly run: (input: T) => void;
  readonly isAllowed: (err: unknown) => boolean;
  /** Bytes (or UTF-16 units) of outside input, against which allocations are bounded. */
  readonly size: (input: T) => number;
  /** Releases what the target kept between inputs (timers keep the process alive). */
  readonly finish?: () => void;
}

/** A property the decoder broke on an input it did not refuse. */
export class FuzzViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzViolation';
  }
}

export function violation(message: string): never {
  throw new FuzzViolation(message);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Type-erased, so the runner can hold targets of different input types in one list. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each target's own input type
export type AnyTarget = FuzzTarget<any>;
