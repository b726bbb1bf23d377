import type { DiskReplica } from '../disk/disk-replica';
import type { MailBlockCache, MailPositions } from '../net/mail-sync';
import type { LocalSpace } from './device-home';

/** A space this device syncs now: its replica, and what the live sessions and the mailbox know of it. */
export interface OpenSpace {
  readonly local: LocalSpace;
  readonly disk: DiskReplica;
  /** Devices with an engine session in this space. */
  readonly up: Set<string>;
  lastAnnounced: string;
  readonly mailed: MailPositions;
  readonly cache: MailBlockCache;
  mailing: boolean;
  /** When blocks no pending version needs were last dropped from `cache`. */
  cachePrunedAt: number;
}
