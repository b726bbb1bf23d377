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

/**
 * One receiving session for many inputs (making one per input cost more than the frame itself),
 * made anew every so often so that the updates it took and the ones it holds back, waiting for
 * what they depend on, do not pile up.
 */
let current: CoeditSession | undefined;
let uses = 0;
function receiver(): CoeditSession {
  if (current === undefined || ++uses > 256) {
    current?.destroy();
    current = session(3, () => undefined);
    uses = 0;
  }
  return current;
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
    receiver().receive(frame, 'peer');
  },
  finish() {
    // Its awareness checks for stale peers on an interval, which would keep the process alive.
    current?.destroy();
    current = undefined;
  },
};
