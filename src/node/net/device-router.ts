import { fromHex, toHex } from '../../sync/util/bytes';
import { printable } from '../../sync/util/printable';
import { decodeMessage, encodeMessage } from '../../sync/protocol/codec';
import type { Message } from '../../sync/protocol/messages';
import type { AccountState, UserInfo } from '../../sync/protocol/rendezvous';
import { roleOf, spaceInfo, userOfDevice } from './account-directory';
import { ChannelKind } from './payload-kind';
import { decodeDirectAddresses, encodeDirectAddresses } from './direct-addresses';

export interface DeviceRouterOptions {
  readonly deviceId: string;
  /** The account state as the server last sent it. */
  readonly state: () => AccountState | undefined;
  readonly isOnline: (device: string) => boolean;
  /** Sends over the encrypted channel to a device; false when it cannot be sent now. */
  readonly send: (device: string, plaintext: Uint8Array) => boolean;
  /** Whether this device syncs the space now. */
  readonly isOpen: (space: string) => boolean;
  /** A replica frame from a joined member device; a reader's changes were already refused. */
  readonly onSync: (space: string, device: string, message: Message) => void;
  readonly onCoedit: (device: string, plaintext: Uint8Array) => void;
  /** A device says where it accepts direct links (already checked: at most 16 "ip:port" strings). */
  readonly onDirectAddresses?: (device: string, addresses: string[]) => void;
  /** A member of a conversation is typing: a contact's user id, or a space id for a group. */
  readonly onTyping: (conversation: string, from: UserInfo) => void;
  readonly log: (message: string) => void;
}

/**
 * The messages between this device and others over the live encrypted channels, by their first
 * byte (payload-kind.ts): replica frames, typing notices, co-editing notices. Whatever comes in is
 * checked against the account state (who is a member, who may only read) before it is handed on.
 */
export class DeviceRouter {
  constructor(private readonly options: DeviceRouterOptions) {}

  sendSync(space: string, device: string, message: Message): void {
    const frame = encodeMessage(message);
    const out = new Uint8Array(1 + 16 + frame.length);
    out[0] = ChannelKind.Sync;
    out.set(fromHex(space), 1);
    out.set(frame, 17);
    this.options.send(device, out);
  }

  /**
   * Tells the online devices of a conversation (a contact's user id or a joined space's id) that
   * this user is typing: over the encrypted channels only, so nobody offline ever gets it.
   */
  sendTyping(conversation: string): number {
    const state = this.options.state();
    if (!state) return 0;
    const space = state.spaces.find((s) => s.doc.id === conversation && s.status[state.user.id] === 'joined');
    const contact = state.contacts.find((c) => c.id === conversation);
    const users = space ? space.users.filter((u) => space.status[u.id] === 'joined') : contact ? [contact, state.user] : [];
    const body = new TextEncoder().encode(JSON.stringify({ conversation }));
    const payload = new Uint8Array(1 + body.length);
    payload[0] = ChannelKind.Typing;
    payload.set(body, 1);
    let sent = 0;
    for (const user of users) {
      for (const device of user.devices) {
        if (device.id === this.options.deviceId || !this.options.isOnline(device.id)) continue;
        if (this.options.send(device.id, payload)) sent++;
      }
    }
    return sent;
  }

  receive(device: string, plaintext: Uint8Array): void {
    if (plaintext[0] === ChannelKind.Sync && plaintext.length > 17) this.onSync(device, plaintext);
    else if (plaintext[0] === ChannelKind.Typing) this.onTyping(device, plaintext.subarray(1));
    else if (plaintext[0] === ChannelKind.Coedit) this.options.onCoedit(device, plaintext);
    else if (plaintext[0] === ChannelKind.Direct) this.onDirect(device, plaintext.subarray(1));
  }

  /** Tells a device where this one accepts direct links (PROTOCOL.md R8). */
  sendDirectAddresses(device: string, addresses: readonly string[]): void {
    this.options.send(device, encodeDirectAddresses(addresses));
  }

  private onDirect(device: string, body: Uint8Array): void {
    const addresses = decodeDirectAddresses(body);
    if (addresses) this.options.onDirectAddresses?.(device, addresses);
    else this.options.log(`device ${device} sent direct-link addresses that are not a list of "ip:port"`);
  }

  private onSync(device: string, plaintext: Uint8Array): void {
    const space = toHex(plaintext.subarray(1, 17));
    const info = spaceInfo(this.options.state(), space);
    if (!this.options.isOpen(space) || !info) return;
    const { author, role } = roleOf(device, info);
    if (!role) {
      this.options.log(`space ${space}: refused a message from device ${device}, which is not a member`);
      return;
    }
    const message = decodeMessage(plaintext.subarray(17));
    if (role === 'reader' && message.type === 'index' && message.records.length > 0) {
      this.options.log(`space ${space}: refused ${message.records.length} changes from ${printable(author!.name)}, who may only read`);
      return;
    }
    this.options.onSync(space, device, message);
  }

  private onTyping(device: string, body: Uint8Array): void {
    const state = this.options.state();
    const user = userOfDevice(state, device);
    if (!state || !user) return;
    let conversation: unknown;
    try {
      conversation = (JSON.parse(new TextDecoder().decode(body)) as { conversation?: unknown }).conversation;
    } catch {
      return;
    }
    if (typeof conversation !== 'string') return;
    const group = state.spaces.find((s) => s.doc.id === conversation);
    const allowed = group
      ? group.status[user.id] === 'joined' && group.status[state.user.id] === 'joined'
      : conversation === state.user.id || user.id === state.user.id;
    if (!allowed || user.id === state.user.id) return;
    // A direct conversation is filed under the other user, as chat is.
    this.options.onTyping(group ? conversation : user.id, user);
  }
}
