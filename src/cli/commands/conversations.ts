import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { contactsByName, withServer, type ServerConnection } from '../../node/agent/account';
import type { ChatEntry } from '../../node/agent/chat';
import type { DeviceHome } from '../../node/agent/device-home';
import { CliError } from '../cli-errors';

export interface KnownContact {
  readonly id: string;
  readonly name: string;
}

/**
 * The conversations a device has and what to call them. A conversation is keyed by a contact's
 * user id (direct) or a space id (a group); people know them by name, so names come from what
 * the device knows without asking anyone: contacts a daemon reported, the names senders gave in
 * their messages, and the folders of its spaces.
 */
export class Conversations {
  private readonly names = new Map<string, string>();
  private readonly groups = new Set<string>();

  constructor(
    private readonly home: DeviceHome,
    contacts: readonly KnownContact[],
    histories: ReadonlyMap<string, readonly ChatEntry[]>,
  ) {
    const spaceNames = home.spaceNames();
    for (const space of home.spaces()) {
      this.groups.add(space.id);
      this.names.set(space.id, nodePath.basename(space.path) || spaceNames[space.id] || space.id);
    }
    for (const [conversation, entries] of histories)
      for (const e of entries)
        if (e.from === conversation && e.fromName && !this.names.has(conversation)) this.names.set(conversation, e.fromName);
    for (const c of contacts) this.names.set(c.id, c.name);
  }

  /** The conversations with a history on this device. */
  static ids(home: DeviceHome): string[] {
    try {
      return fs
        .readdirSync(home.chatDir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => f.slice(0, -'.jsonl'.length));
    } catch {
      return [];
    }
  }

  label(conversation: string): string {
    const name = this.names.get(conversation) ?? conversation;
    return this.groups.has(conversation) ? `${name} (group)` : name;
  }

  /** The conversation `name` means: an id, a contact's name or a shared folder's; undefined when none is known here. */
  find(name: string): string | undefined {
    if (this.names.has(name) || Conversations.ids(this.home).includes(name)) return name;
    const matches = [...this.names].filter(([, n]) => n === name).map(([id]) => id);
    if (matches.length > 1) throw new CliError(`several conversations are called ${name}: use its id (${matches.join(' or ')})`);
    return matches[0];
  }
}

/** `--with NAME` as a conversation id; a contact this device has no name for yet is looked up on the server. */
export async function conversationOf(
  conversations: Conversations,
  home: DeviceHome,
  name: string,
  askServer: boolean,
  connection: ServerConnection = {},
): Promise<string> {
  const found = conversations.find(name);
  if (found !== undefined) return found;
  if (askServer) {
    const id = await withServer(home, home.identity(), async (_session, state) => contactsByName(state, [name])[0]!.id, connection);
    return id;
  }
  throw new CliError(
    `${name} is neither a contact nor a shared folder of this device: "shared-folders chat --read" lists the conversations`,
  );
}
