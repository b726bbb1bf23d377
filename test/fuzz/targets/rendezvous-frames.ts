import * as fc from 'fast-check';
import {
  decodeDelivery,
  decodeDeposit,
  decodeRelay,
  encodeDelivery,
  encodeDeposit,
  encodeRelay,
  RendezvousError,
} from '../../../src/sync/protocol/rendezvous';
import { sameBytes, violation, type FuzzTarget } from '../fuzz-target';
import { hexArb } from '../hex-arbitrary';
import { fuzzBytes } from '../mutate';

const anId = hexArb(16);
const payload = fc.uint8Array({ maxLength: 64 });
const validFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(anId, payload).map(([d, p]) => encodeRelay(d, p)),
  fc.tuple(anId, fc.array(anId, { minLength: 1, maxLength: 4 }), payload).map(([i, r, p]) => encodeDeposit(i, r, p)),
  fc.tuple(anId, anId, payload).map(([i, s, p]) => encodeDelivery(i, s, p)),
);

export const rendezvousFrames: FuzzTarget<Uint8Array> = {
  name: 'rendezvous-frames',
  covers: 'src/sync/protocol/rendezvous.ts decodeRelay, decodeDeposit (server side), decodeDelivery (device side): every binary frame',
  allowed: "RendezvousError with code 'malformed'",
  input: fuzzBytes(validFrame),
  size: (frame) => frame.length,
  isAllowed: (err) => err instanceof RendezvousError && err.code === 'malformed',
  run(frame) {
    // Each decoder sees every frame, as a hostile peer may send any kind where another is expected.
    const attempts: (() => Uint8Array)[] = [
      () => {
        const { device, payload: p } = decodeRelay(frame);
        return encodeRelay(device, p);
      },
      () => {
        const { item, recipients, payload: p } = decodeDeposit(frame);
        return encodeDeposit(item, recipients, p);
      },
      () => {
        const { item, sender, payload: p } = decodeDelivery(frame);
        return encodeDelivery(item, sender, p);
      },
    ];
    let refusal: unknown;
    let decoded = 0;
    for (const attempt of attempts) {
      let again: Uint8Array;
      try {
        again = attempt();
      } catch (err) {
        if (!(err instanceof RendezvousError)) throw err;
        refusal = err;
        continue;
      }
      decoded++;
      if (!sameBytes(again, frame)) violation('a binary frame does not re-encode to the same bytes');
    }
    // Counted as refused when no decoder took it.
    if (decoded === 0) throw refusal;
  },
};
