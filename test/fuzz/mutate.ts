import * as fc from 'fast-check';

/**
 * Byte-level mutations of valid encodings: a decoder's first checks (lengths, versions, types)
 * pass, and what follows them gets exercised. Positions are drawn as plain numbers and taken
 * modulo the input's length, so one mutation list applies to inputs of any size.
 */
type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'remove'; readonly at: number; readonly length: number }
  | { readonly kind: 'inflate'; readonly at: number; readonly bytes: Uint8Array; readonly overwrite: boolean }
  | { readonly kind: 'splice'; readonly at: number; readonly from: number; readonly length: number };

/** Numbers a length field should never be trusted with: varints up to 2^53 - 1, an overlong varint, u32s. */
const HUGE: readonly Uint8Array[] = [
  [0x7f],
  [0xff, 0x7f],
  [0x80, 0x80, 0x80, 0x80, 0x10], // 2^32
  [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f], // 2^53 - 1
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // too long
  [0x80, 0x00], // not shortest form
  [0xff, 0xff, 0xff, 0xff], // u32 max
  [0x7f, 0xff, 0xff, 0xff],
  [0x00, 0x00, 0x00, 0x00],
  [0x04, 0x00, 0x00, 0x00], // 64 MiB as u32be
].map((b) => Uint8Array.from(b));

const position = fc.nat({ max: 0xffff });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('set' as const), at: position, value: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: position, length: fc.integer({ min: 1, max: 8 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('inflate' as const), at: position, bytes: fc.constantFrom(...HUGE), overwrite: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('splice' as const), at: position, from: position, length: fc.integer({ min: 1, max: 64 }) }),
  },
);

function apply(input: Uint8Array, m: Mutation, donor: Uint8Array): Uint8Array {
  const at = m.at % (input.length + 1);
  const concat = (...parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let i = 0;
    for (const p of parts) {
      out.set(p, i);
      i += p.length;
    }
    return out;
  };
  switch (m.kind) {
    case 'flip': {
      if (input.length === 0) return input;
      const out = input.slice();
      out[at % input.length]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (input.length === 0) return input;
      const out = input.slice();
      out[at % input.length] = m.value;
      return out;
    }
    case 'truncate':
      return input.subarray(0, at);
    case 'insert':
      return concat(input.subarray(0, at), m.bytes, input.subarray(at));
    case 'remove':
      return concat(input.subarray(0, at), input.subarray(at + m.length));
    case 'inflate':
      return concat(input.subarray(0, at), m.bytes, input.subarray(m.overwrite ? at + m.bytes.length : at));
    case 'splice': {
      // Another valid encoding's bytes in the middle of this one: fields that parse, in the wrong place.
      const from = donor.length === 0 ? 0 : m.from % donor.length;
      return concat(input.subarray(0, at), donor.subarray(from, from + m.length), input.subarray(at));
    }
  }
}

/** 1 to 4 mutations of a valid encoding, spliced with bytes of a second one. */
export function mutationsOf(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, valid, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([input, donor, ms]) => ms.reduce((bytes, m) => apply(bytes, m, donor), input));
}

/**
 * What every byte decoder is fed: mostly mutated valid encodings, some valid ones unchanged (the
 * round-trip properties need them), some random bytes.
 */
export function fuzzBytes(valid: fc.Arbitrary<Uint8Array>, maxRandom = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandom }) },
    { weight: 7, arbitrary: mutationsOf(valid) },
  );
}
