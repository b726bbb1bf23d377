import * as fc from 'fast-check';
import { decodeMessage, encodeMessage, FRAME_HEADER_BYTES } from '../../../src/sync/protocol/codec';
import { DecodeError } from '../../../src/sync/protocol/wire';
import { sameBytes, violation, type FuzzTarget } from '../fuzz-target';
import { fuzzBytes } from '../mutate';
import { messageArb } from '../replica-arbitraries';

const validFrame = messageArb.map((m) => encodeMessage(m));

/** A mutated body under a length prefix that agrees with it, so the fuzzer gets past the header check. */
function withFixedLength(frame: Uint8Array): Uint8Array {
  if (frame.length < FRAME_HEADER_BYTES) return frame;
  const out = frame.slice();
  new DataView(out.buffer, out.byteOffset).setUint32(0, frame.length - FRAME_HEADER_BYTES);
  return out;
}

export const replicaFrame: FuzzTarget<Uint8Array> = {
  name: 'replica-frame',
  covers: 'src/sync/protocol/codec.ts decodeMessage (and wire.ts ByteReader, version-vector.ts readVector)',
  allowed: 'DecodeError, except the "malformed input" wrapping of a non-DecodeError (a codec bug)',
  input: fc.oneof({ weight: 1, arbitrary: fuzzBytes(validFrame) }, { weight: 3, arbitrary: fuzzBytes(validFrame).map(withFixedLength) }),
  size: (frame) => frame.length,
  isAllowed: (err) => err instanceof DecodeError && !err.message.startsWith('badValue: malformed input'),
  run(frame) {
    const message = decodeMessage(frame);
    // One encoding per value: what decodes re-encodes to the very same bytes.
    if (!sameBytes(encodeMessage(message), frame)) violation(`decoded ${message.type} frame does not re-encode to the same bytes`);
  },
};
