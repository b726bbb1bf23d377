import * as crypto from 'node:crypto';
import { equalBytes } from '../../sync/util/bytes';
import { printable } from '../../sync/util/printable';
import { SerialQueue } from '../../sync/util/serial-queue';
import type { DeviceKeys } from '../crypto/device-keys';
import { openSealed, sealFor } from '../crypto/sealed-box';
import { NodeHasher } from '../workers/node-hasher';
import { joinedDevices, publicKeysOf, roleOf, spaceInfo, userOfDevice } from '../net/account-directory';
import { decodeMailItem, mailItems } from '../net/mail-sync';
import { MailKind } from '../net/payload-kind';
import type { RendezvousClient } from '../net/rendezvous-client';
import { appendChatHistory, parseChat, type ChatEntry } from './chat';
import type { DeviceHome } from './device-home';
import type { OpenSpace } from './open-space';
import type { RemoteChanges } from './remote-changes';
import { parseSpaceNote } from './space-note';

/** How long a member device must have been away before its changes go to the mailbox. */
const MAIL_AFTER_OFFLINE_MS = 3000;

/** Blocks from the mailbox whose index never came are dropped after this long. */
export const MAIL_BLOCK_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** Mailbox bytes queued on the socket before the next item is built. */
const MAIL_BUFFER_BYTES = 8 * 1024 * 1024;

export interface MailboxOptions {
  readonly home: DeviceHome;
  readonly keys: DeviceKeys;
  readonly client: RendezvousClient;
  /** The spaces open here, by id. */
  readonly spaces: ReadonlyMap<string, OpenSpace>;
  readonly isOnline: (device: string) => boolean;
  /** Resolves once the spaces queued to open are open. */
  readonly spacesOpened: () => Promise<void>;
  readonly remoteChanges: RemoteChanges;
  readonly onChat: (entry: ChatEntry) => void;
  readonly log: (message: string) => void;
}

/**
 * This device's side of the server's mailbox: sealed boxes deposited for member devices that are
 * offline (the changes they have not seen), and the items delivered here (changes, chat, space
 * notes), opened and used one at a time, then acknowledged.
 */
export class Mailbox {
  private readonly deliveries = new SerialQueue();
  private readonly offlineSince = new Map<string, number>();
  private readonly hasher = new NodeHasher();
  private quotaProblems = 0;
  private closed = false;

  constructor(private readonly options: MailboxOptions) {}

  close(): void {
    this.closed = true;
  }

  wentOffline(device: string): void {
    this.offlineSince.set(device, Date.now());
  }

  /** The server refused a deposit over this user's quota: the deposits under way stop. */
  quotaExceeded(): void {
    this.quotaProblems++;
  }

  /**
   * One at a time, after the replicas are open: an item's blocks must be cached before the next
   * item's index asks for them.
   */
  deliver(item: string, sender: string, box: Uint8Array): void {
    void this.deliveries.run(async () => {
      await this.options.spacesOpened();
      await this.onDelivery(item, sender, box);
    });
  }

  /** Deposits, for every offline member device, what it has not seen of this replica's index. */
  async mailOffline(space: string, open: OpenSpace): Promise<void> {
    const { client, keys } = this.options;
    const info = spaceInfo(client.state, space);
    if (!info || roleOf(client.device.id, info).role === 'reader') return;
    const replica = open.disk.replica;
    for (const device of joinedDevices(info)) {
      if (device === client.device.id || this.options.isOnline(device)) continue;
      // A device that is only reconnecting gets its changes live in a moment.
      if (Date.now() - (this.offlineSince.get(device) ?? 0) < MAIL_AFTER_OFFLINE_MS) continue;
      const at = open.mailed.get(device);
      const from = at && at.indexId === replica.indexId ? at.sequence : 0;
      if (replica.sequence <= from) continue;
      const theirs = publicKeysOf(client.state, device);
      if (!theirs) continue;
      const stillOffline = (): boolean => !this.options.isOnline(device) && !this.closed;
      const { items, upTo, nothingNew } = mailItems(open.disk, space, from, device);
      if (nothingNew) {
        open.mailed.set(device, { indexId: replica.indexId, sequence: upTo });
        continue;
      }
      const problems = this.quotaProblems;
      let count = 0;
      for await (const item of items) {
        // Back meanwhile: the live session brings it up to date; what was deposited so far does no harm.
        if (!stillOffline()) return;
        const box = sealFor(keys, client.device.id, theirs, device, item);
        if (!client.deposit(crypto.randomBytes(16).toString('hex'), [device], box)) return;
        count++;
        // The next item is read from disk only once the socket has room: memory stays bounded.
        if (!(await client.drained(MAIL_BUFFER_BYTES))) return;
        if (this.quotaProblems !== problems) return;
      }
      // A reply after the deposits means the server has handled them; only then is the position kept.
      await client.request({ t: 'state' });
      if (this.quotaProblems !== problems) return;
      open.mailed.set(device, { indexId: replica.indexId, sequence: upTo });
      this.options.log(`space ${space}: mailed changes up to ${upTo} to offline device ${device} (${count} items)`);
    }
  }

  private async onDelivery(item: string, sender: string, box: Uint8Array): Promise<void> {
    const { client, home } = this.options;
    const keys = publicKeysOf(client.state, sender);
    try {
      if (!keys) throw new Error(`unknown sender device ${sender}`);
      const payload = openSealed(this.options.keys, client.device.id, keys, sender, box);
      const chat = parseChat(payload);
      const note = parseSpaceNote(payload);
      if (payload[0] === MailKind.Sync) {
        if (!(await this.applySync(sender, payload))) return; // Not joined here yet: left in the mailbox.
      } else if (chat) {
        const user = userOfDevice(client.state, sender);
        if (!user || user.id !== chat.from) throw new Error(`chat from device ${sender} claims another user`);
        const me = client.state?.user.id;
        const group = spaceInfo(client.state, chat.conversation);
        const allowed = group ? group.status[user.id] === 'joined' : chat.conversation === me || user.id === me;
        if (!allowed) throw new Error(`chat from ${user.name} for a conversation they are not in`);
        // A direct message is filed under the sender; a group message under its space. Who sent
        // it and when is what this device knows (the sender's signed-in identity, its own clock),
        // never what the message claims.
        const entry = {
          ...chat,
          conversation: chat.conversation === client.state?.user.id ? user.id : chat.conversation,
          fromName: user.name,
          sent: Date.now(),
        };
        if (appendChatHistory(home, entry)) this.options.onChat(entry);
      } else if (note) {
        const space = spaceInfo(client.state, note.space);
        if (!space || !roleOf(sender, space).role) throw new Error(`a note about space ${note.space} from a device that is not a member`);
        // This user's own name for its copy wins over the sharer's.
        const fromSibling = client.state?.user.devices.some((d) => d.id === sender) === true;
        const known = home.spaceNames()[note.space];
        if (known !== note.name && (known === undefined || fromSibling)) home.putSpaceName(note.space, note.name);
      } else throw new Error('unknown mailbox payload');
    } catch (err) {
      this.options.log(`mailbox item ${printable(item)} from ${sender} dropped: ${printable((err as Error).message)}`);
    }
    // Acknowledged whether or not it could be used: a bad item must not block the mailbox.
    this.acknowledge(item);
  }

  /** Applies a sync item from the mailbox; false when the space is not open here. */
  private async applySync(sender: string, payload: Uint8Array): Promise<boolean> {
    const { space, messages } = decodeMailItem(payload);
    const open = this.options.spaces.get(space);
    const info = spaceInfo(this.options.client.state, space);
    if (!open || !info) return false;
    const { role } = roleOf(sender, info);
    if (!role || role === 'reader') throw new Error(`device ${sender} may not change space ${space}`);
    if (!open.up.has(sender)) {
      open.up.add(sender);
      await open.disk.replica.peerUp(sender);
    }
    let refused = 0;
    // Blocks come before the index batches that need them (mailItems): each run of blocks is
    // kept, all at once, before the next message is applied.
    let blocks: { hash: Uint8Array; data: Uint8Array }[] = [];
    const keepBlocks = async (): Promise<void> => {
      if (blocks.length === 0) return;
      const kept = await open.cache.putAll(blocks, sender);
      blocks = [];
      refused += kept.filter((k) => !k).length;
    };
    for (const message of messages) {
      if (message.type === 'blockResponse') {
        if (message.status !== 'ok' || !equalBytes(this.hasher.sha256(message.data), message.hash)) continue;
        blocks.push({ hash: message.hash, data: message.data });
        continue;
      }
      await keepBlocks();
      if (message.type === 'index') {
        this.options.remoteChanges.note(space, open.disk.replica, message.records);
        await open.disk.replica.receive(sender, message);
        // The last batch of a deposit: its blocks stay only while the versions it brought need them.
        if (message.toSequence >= message.maxSequence) {
          open.cache.indexApplied(sender);
          // Once, not once per cached block: it walks every pending version.
          const pending = open.disk.replica.pendingBlocks();
          open.cache.prune((hash) => pending.has(hash), MAIL_BLOCK_MAX_AGE_MS);
        }
      }
    }
    await keepBlocks();
    if (refused > 0)
      this.options.log(
        `space ${space}: ${refused} blocks from device ${sender} not kept: the mailbox block cache holds ${open.cache.bytes} of its ${open.cache.budget} bytes; those files come from a member once one is online`,
      );
    return true;
  }

  private acknowledge(item: string): void {
    void this.options.client
      .request({ t: 'ack', items: [item] })
      .catch((err: unknown) => this.options.log(`ack ${printable(item)}: ${printable((err as Error).message)}`));
  }
}
