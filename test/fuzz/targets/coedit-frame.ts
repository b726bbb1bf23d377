import * as fc from 'fast-check';
import { CoeditProtocolError, decodeFrame, encodeFrame } from '../../../src/sync/coedit/coedit-frame';
import { CoeditSession } from '../../../src/sync/coedit/coedit-session';
import { sameBytes, violation, type FuzzTarget } from '../fuzz-target';
import { fuzzBytes } from '../mutate';

const SEED = 'first line\nsecond line\n';

function session(clientId: number, broadcast: (frame: Uint8Array) => void, seed: string | undefined = SEED): CoeditSession {
  return new CoeditSession({
    ...(seed !== undefined ? { seed } : {}),
    user: { id: `u${clientId}`, name: `user ${clientId}` },
    broadcast,
    clientId,
  });
}

/** Real frames of a session: a join, its answers, updates of several edits, awareness. */
const frames: Uint8Array[] = [];
{
  const a = session(1, (f) => frames.push(f));
  const b = session(2, (f) => frames.push(f), undefined);
  for (const f of b.join()) {
    frames.push(f);
    frames.push(...a.receive(f, 'b'));
  }
  a.applyText('first line, edited\nsecond line\nthird\n');
  a.applyText('x\n');
  a.setLocalSelection({ anchor: 1, head: 2 });
  a.destroy();
  b.destroy();
}

export const coeditFrame: FuzzTarget<Uint8Array> = {
  name: 'coedit-frame',
  covers:
    'src/sync/coedit/coedit-frame.ts decodeFrame and CoeditSession.receive (y-protocols sync and awareness messages, Yjs updates) of a member',
  allowed: 'CoeditProtocolError',
  input: fuzzBytes(fc.constantFrom(...frames)),
  size: (frame) => frame.length,
  isAllowed: (err) => err instanceof CoeditProtocolError,
  run(frame) {
    const { kind, payload } = decodeFrame(frame);
    if (!sameBytes(encodeFrame(kind, payload), frame)) violation('a co-editing frame does not re-encode to the same bytes');
    const s = session(3, () => undefined);
    try {
      s.receive(frame, 'peer');
    } finally {
      s.destroy();
    }
  },
};
