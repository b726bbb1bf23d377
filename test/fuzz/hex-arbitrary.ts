import * as fc from 'fast-check';

/** Lowercase hex of `minBytes` to `maxBytes` random bytes: ids, keys, signatures. */
export function hexArb(minBytes: number, maxBytes = minBytes): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: minBytes, maxLength: maxBytes }).map((b) => Buffer.from(b).toString('hex'));
}
