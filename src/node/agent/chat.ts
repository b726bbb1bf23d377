import { isHexId } from '../../sync/util/hex-id';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { UserInfo } from '../../sync/protocol/rendezvous';
import type { DeviceHome } from './device-home';
import { type DeviceKeys } from '../crypto/device-keys';
import type { RendezvousClient } from '../net/rendezvous-client';
import { depositSealed } from '../net/sealed-deposit';
import { MailKind } from '../net/payload-kind';

export interface ChatEntry {
  /** A contact's user id for a direct conversation, a space id for a group's. */
  readonly conversation: string;
  readonly from: string;
  readonly fromName: string;
  readonly text: string;
  readonly sent: number;
  readonly id: string;
}

/**
 * Sends a chat message as one sealed box per recipient device through the mailbox: delivered at
 * once to devices that are online, at their next sign-in to the others, and deleted from the
 * server when acknowledged. Returns the number of devices it was addressed to.
 */
export function sendChat(
  client: RendezvousClient,
  keys: DeviceKeys,
  from: UserInfo,
  recipients: readonly UserInfo[],
  conversation: string,
  text: string,
): { entry: ChatEntry; devices: number } {
  const entry: ChatEntry = {
    conversation,
    from: from.id,
    fromName: from.name,
    text,
    sent: Date.now(),
    id: crypto.randomBytes(16).toString('hex'),
  };
  const body = new TextEncoder().encode(JSON.stringify(entry));
  const payload = new Uint8Array(1 + body.length);
  payload[0] = MailKind.Chat;
  payload.set(body, 1);
  return { entry, devices: depositSealed(client, keys, recipients, payload) };
}

/** The latest time a Date can hold, in ms from the epoch either way. */
const MAX_DATE_MS = 8.64e15;

/** 0 for a time no Date can hold (Infinity, 1e300): the chat view's `toISOString()` throws on those. */
function shownTime(ms: number): number {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : 0;
}

/** Reads a chat payload; undefined when it is not a well-formed chat message. */
export function parseChat(payload: Uint8Array): ChatEntry | undefined {
  if (payload[0] !== MailKind.Chat) return undefined;
  try {
    const o = JSON.parse(new TextDecoder().decode(payload.subarray(1))) as Partial<ChatEntry>;
    if (!isHexId(o.conversation) || typeof o.text !== 'string' || typeof o.from !== 'string' || typeof o.id !== 'string') return undefined;
    return {
      conversation: o.conversation,
      from: o.from,
      fromName: String(o.fromName ?? ''),
      text: o.text.slice(0, 100_000),
      sent: shownTime(Number(o.sent)),
      id: o.id,
    };
  } catch {
    return undefined;
  }
}

/** Appends to a conversation's history, once per message id. */
export function appendChatHistory(home: DeviceHome, entry: ChatEntry): boolean {
  const file = home.chatFile(entry.conversation);
  fs.mkdirSync(nodePath.dirname(file), { recursive: true });
  if (chatHistory(home, entry.conversation).some((e) => e.id === entry.id)) return false;
  fs.appendFileSync(file, JSON.stringify(entry) + '\n');
  return true;
}

export function chatHistory(home: DeviceHome, conversation: string): ChatEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(home.chatFile(conversation), 'utf8');
  } catch {
    return [];
  }
  const out: ChatEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as ChatEntry);
    } catch {
      // A torn last line after a crash: the rest of the history stands.
    }
  }
  return out;
}
