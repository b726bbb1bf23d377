import type { AnyTarget } from '../fuzz-target';
import { codes } from './codes';
import { coeditFrame } from './coedit-frame';
import { coeditNotice } from './coedit-notice';
import { controlLines } from './control-lines';
import { mailItem } from './mail-item';
import { mailPayloads } from './mail-payloads';
import { rendezvousClientMessage } from './rendezvous-client-message';
import { rendezvousFrames } from './rendezvous-frames';
import { replicaFrame } from './replica-frame';
import { sealedBox } from './sealed-box';
import { secureSession } from './secure-session';
import { stateJournal } from './state-journal';

/** Every decoder of outside bytes under fuzz, in the order `npm run fuzz` runs them. */
export const TARGETS: readonly AnyTarget[] = [
  replicaFrame,
  stateJournal,
  rendezvousClientMessage,
  rendezvousFrames,
  mailItem,
  mailPayloads,
  coeditFrame,
  coeditNotice,
  codes,
  controlLines,
  sealedBox,
  secureSession,
];
