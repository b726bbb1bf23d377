import type { DeviceInfo, MemberStatus, SpaceDoc } from '../sync/protocol/rendezvous';
import type { RateBuckets } from './server-rates';

/**
 * What the rendezvous server keeps. Asynchronous throughout so that a PostgreSQL store can take
 * the place of the embedded SQLite one; every method is one transaction.
 */
export interface ServerStore {
  createUser(user: { id: string; name: string }, device: DeviceInfo, now: number): Promise<void>;
  addDevice(user: string, device: DeviceInfo, now: number): Promise<void>;
  device(id: string): Promise<(DeviceInfo & { user: string }) | undefined>;
  user(id: string): Promise<{ id: string; name: string } | undefined>;
  devicesOf(user: string): Promise<DeviceInfo[]>;

  /** One-time tokens for invites (`kind` 'invite') and device links ('link'). */
  putToken(token: string, kind: TokenKind, user: string, expires: number): Promise<void>;
  /**
   * Deletes the token and returns its user when it exists, has this kind and has not expired.
   * A token of `keepFor` is returned but kept: its maker cannot use it up.
   */
  takeToken(token: string, kind: TokenKind, now: number, keepFor?: string): Promise<string | undefined>;
  /** How many unexpired tokens of either kind this user holds. */
  liveTokens(user: string, now: number): Promise<number>;

  addContact(a: string, b: string): Promise<void>;
  removeContact(a: string, b: string): Promise<void>;
  contactsOf(user: string): Promise<string[]>;

  /** Stores a new version of a space document; false when the stored version is not `doc.version - 1`. */
  putSpace(doc: SpaceDoc, statuses: ReadonlyMap<string, MemberStatus>): Promise<boolean>;
  space(id: string): Promise<{ doc: SpaceDoc; status: Record<string, MemberStatus> } | undefined>;
  setMemberStatus(space: string, user: string, status: MemberStatus): Promise<void>;
  spacesOf(user: string): Promise<string[]>;

  putVector(space: string, device: string, hash: string): Promise<void>;
  vectors(space: string): Promise<{ device: string; hash: string }[]>;

  /**
   * Stores an item unless the sender's pending bytes would exceed `limits.user` ('quota') or all
   * pending bytes `limits.total` ('full'); an item id already stored counts as done.
   */
  deposit(item: MailboxItem, recipients: readonly string[], limits: { user: number; total: number }): Promise<DepositResult>;
  /** Items waiting for this device, oldest first, at most `limit`, without their payloads. */
  pendingFor(device: string, limit: number): Promise<MailboxHeader[]>;
  /** An item's payload; undefined once it is gone. */
  mailboxPayload(item: string): Promise<Uint8Array | undefined>;
  /** Records that `device` has the items; an item every recipient acknowledged is deleted. */
  acknowledge(device: string, items: readonly string[]): Promise<void>;
  mailboxTotals(): Promise<{ items: number; bytes: number }>;
  /** Drops items older than `before` (undeliverable: their devices never came back). */
  expireMailbox(before: number): Promise<number>;

  /** Resolves when the database answers; throws an error saying so when it does not. */
  health(): Promise<void>;

  /**
   * Where the server's hourly rate limits are kept when the store is shared by several
   * processes, so that they hold across all of them; absent, each process keeps its own.
   */
  readonly rateBuckets?: RateBuckets;

  close(): Promise<void>;
}

export type TokenKind = 'invite' | 'link';

export type DepositResult = 'stored' | 'quota' | 'full';

export interface MailboxHeader {
  readonly id: string;
  readonly sender: string;
  readonly bytes: number;
}

export interface MailboxItem {
  readonly id: string;
  readonly sender: string;
  readonly senderUser: string;
  readonly payload: Uint8Array;
  readonly created: number;
}
