import { isDeepStrictEqual } from 'node:util';
import * as fc from 'fast-check';
import { CoeditNoticeError, decodeNotice, encodeNotice, type CoeditNotice } from '../../../src/node/coedit/coedit-notice';
import { violation, type FuzzTarget } from '../fuzz-target';
import { hexArb } from '../hex-arbitrary';
import { fuzzBytes } from '../mutate';

const path = fc.constantFrom('a.txt', 'src/main.ts', 'docs/Ünïcode.md', 'deep/er/path/file');
const notice: fc.Arbitrary<CoeditNotice> = fc.oneof(
  fc.record(
    {
      t: fc.constant('open' as const),
      space: hexArb(16),
      path,
      session: hexArb(32),
      live: fc.boolean(),
      reply: fc.constant(true as const),
    },
    { requiredKeys: ['t', 'space', 'path', 'session', 'live'] },
  ),
  fc.record({ t: fc.constant('close' as const), space: hexArb(16), path }),
  fc.record(
    { t: fc.constant('active' as const), space: hexArb(16), path, top: fc.nat({ max: 2 ** 31 - 1 }) },
    { requiredKeys: ['t', 'space'] },
  ),
  fc.record({
    t: fc.constant('frame' as const),
    space: hexArb(16),
    path,
    session: hexArb(32),
    frame: fc.uint8Array({ minLength: 2, maxLength: 40 }),
  }),
);

export const coeditNotice: FuzzTarget<Uint8Array> = {
  name: 'coedit-notice',
  covers: 'src/node/coedit/coedit-notice.ts decodeNotice (every co-editing message on a live channel: JSON notices and frame notices)',
  allowed: 'CoeditNoticeError',
  input: fuzzBytes(notice.map(encodeNotice)),
  size: (bytes) => bytes.length,
  isAllowed: (err) => err instanceof CoeditNoticeError,
  run(bytes) {
    const decoded = decodeNotice(bytes);
    const again = decodeNotice(encodeNotice(decoded));
    if (!isDeepStrictEqual({ ...again }, { ...decoded })) violation('a decoded notice does not decode back to itself');
  },
};
