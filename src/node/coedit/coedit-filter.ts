import * as decoding from 'lib0/decoding';
import { COEDIT_VERSION, FrameKind } from '../../sync/coedit/coedit-frame';

/** The y-protocols sync message types (first varUint of a sync payload). */
const SYNC_STEP1 = 0;

/**
 * Whether a co-editing frame from a reader's device may reach the session: its presence
 * (awareness) and its state vector (sync step 1, alone or as a join) tell the others what to send
 * it, and carry nothing that changes a document. Step 2 and updates would enter every member's
 * text, so they stop here, on each receiving device, whatever the reader's own editor let it type.
 * A join frame is checked inside too: its payload is a sync message like any other, and a session
 * applies whatever type it finds there. An unknown version or kind is refused: what it carries
 * cannot be shown to be harmless.
 */
export function readerMayPass(frame: Uint8Array): boolean {
  if (frame.length < 2 || frame[0] !== COEDIT_VERSION) return false;
  const kind = frame[1];
  if (kind === FrameKind.Awareness) return true;
  if (kind !== FrameKind.Join && kind !== FrameKind.Sync) return false;
  try {
    // Read as lib0 reads it: a varUint may be padded (0x80 0x00 is 0 too).
    return decoding.readVarUint(decoding.createDecoder(frame.subarray(2))) === SYNC_STEP1;
  } catch {
    return false;
  }
}
