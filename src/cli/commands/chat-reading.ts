import { printable } from '../../sync/util/printable';
import * as fs from 'node:fs';
import { chatHistory, type ChatEntry } from '../../node/agent/chat';
import { ChatReadMarks } from '../../node/agent/chat-read-marks';
import type { ServerConnection } from '../../node/agent/account';
import type { DeviceHome } from '../../node/agent/device-home';
import { CliError } from '../cli-errors';
import { viaDaemonOr, type DaemonConnection } from '../via-daemon';
import { localTime } from './common-options';
import { Conversations, conversationOf, type KnownContact } from './conversations';

/** Where a reading command gets histories and contact names: the daemon, or the home's files. */
interface ChatSource {
  readonly contacts: readonly KnownContact[];
  history(conversation: string): Promise<readonly ChatEntry[]>;
  /** A name nobody here knows may be a contact: ask the server (one-shot only; a daemon knows its contacts). */
  readonly askServer: boolean;
  readonly connection?: ServerConnection;
}

/**
 * `chat --read`: without --with, one line per conversation with its unread count, newest first,
 * marking nothing read (a headless user looks before choosing); with --with, that conversation's
 * whole history, unread messages marked "*", which are then read.
 */
export async function readChat(
  home: DeviceHome,
  withName: string | undefined,
  json: boolean,
  connection: ServerConnection = {},
): Promise<void> {
  const marks = new ChatReadMarks(home, home.identity().user ?? '');
  const show = (source: ChatSource): Promise<void> =>
    withName === undefined ? listConversations(home, marks, source, json) : showConversation(home, marks, source, withName, json);
  await viaDaemonOr(
    home,
    async (d) => show(await daemonSource(d)),
    () => show({ contacts: lastKnownContacts(home), history: async (c) => chatHistory(home, c), askServer: true, connection }),
  );
}

/** `chat --follow`: messages as the daemon receives them, one line each, until Ctrl-C; shown means read. */
export async function followChat(home: DeviceHome, withName: string | undefined): Promise<void> {
  const marks = new ChatReadMarks(home, home.identity().user ?? '');
  await viaDaemonOr(
    home,
    async (d) => {
      const source = await daemonSource(d);
      const conversations = await conversationsOf(home, source);
      const only = withName === undefined ? undefined : await conversationOf(conversations, home, withName, false);
      await new Promise<void>((resolve) => {
        const off = d.onEvent((e) => {
          if (e.event !== 'chat' || (only !== undefined && e.message.conversation !== only)) return;
          const m = e.message;
          const where =
            only === undefined
              ? `[${printable(m.conversation === m.from ? m.fromName || m.from : conversations.label(m.conversation))}] `
              : '';
          console.log(`${localTime(m.sent)} ${where}${printable(m.fromName || m.from)}: ${indented(m.text)}`);
          marks.markRead(m.conversation, m);
        });
        process.stderr.write(
          `following ${only === undefined ? 'every conversation' : `chat with ${printable(conversations.label(only))}`} (Ctrl-C stops)\n`,
        );
        const stop = (): void => {
          off();
          resolve();
        };
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
      });
    },
    async () => {
      throw new CliError(
        `chat --follow streams through the daemon, and none is running for ${home.dir}: start "shared-folders run --home ${home.dir}" and try again`,
      );
    },
  );
}

async function daemonSource(d: DaemonConnection): Promise<ChatSource> {
  const status = await d.call('status', {});
  return {
    contacts: status.contacts.map((c) => ({ id: c.id, name: c.name })),
    history: async (conversation) => (await d.call('chatHistory', { conversation })).messages,
    askServer: false,
  };
}

/** Contact names from the status the last daemon wrote, if one ever ran: names, unlike presence, do not go stale. */
function lastKnownContacts(home: DeviceHome): KnownContact[] {
  try {
    const status = JSON.parse(fs.readFileSync(home.file('status.json'), 'utf8')) as { contacts?: KnownContact[] };
    return (status.contacts ?? []).filter((c) => typeof c.id === 'string' && typeof c.name === 'string');
  } catch {
    return [];
  }
}

async function historiesOf(home: DeviceHome, source: ChatSource): Promise<Map<string, readonly ChatEntry[]>> {
  const histories = new Map<string, readonly ChatEntry[]>();
  for (const id of Conversations.ids(home)) histories.set(id, await source.history(id));
  return histories;
}

async function conversationsOf(home: DeviceHome, source: ChatSource): Promise<Conversations> {
  return new Conversations(home, source.contacts, await historiesOf(home, source));
}

async function listConversations(home: DeviceHome, marks: ChatReadMarks, source: ChatSource, json: boolean): Promise<void> {
  const histories = await historiesOf(home, source);
  const conversations = new Conversations(home, source.contacts, histories);
  const rows = [...histories]
    .filter(([, entries]) => entries.length > 0)
    .map(([id, entries]) => ({
      conversation: id,
      name: conversations.label(id),
      messages: entries.length,
      unread: marks.unread(id, entries).length,
      last: Math.max(...entries.map((e) => e.sent)),
    }))
    .sort((a, b) => b.last - a.last);
  if (json) {
    console.log(JSON.stringify({ conversations: rows.map((r) => ({ ...r, last: new Date(r.last).toISOString() })) }, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log(`no conversations yet: start one with "shared-folders chat --home ${home.dir} --to NAME MESSAGE"`);
    return;
  }
  for (const r of rows) console.log(`${printable(r.name)}: ${r.unread} unread, ${r.messages} messages, the last at ${localTime(r.last)}`);
  if (rows.some((r) => r.unread > 0)) console.log(`read one with "shared-folders chat --home ${home.dir} --read --with NAME"`);
}

async function showConversation(home: DeviceHome, marks: ChatReadMarks, source: ChatSource, name: string, json: boolean): Promise<void> {
  const conversations = await conversationsOf(home, source);
  const id = await conversationOf(conversations, home, name, source.askServer, source.connection);
  const entries = await source.history(id);
  const unread = new Set(marks.unread(id, entries).map((e) => e.id));
  const label = conversations.label(id);
  if (json) {
    const messages = entries.map((e) => ({ ...e, unread: unread.has(e.id) }));
    console.log(JSON.stringify({ conversation: id, name: label, unread: unread.size, messages }, null, 2));
  } else if (entries.length === 0) {
    console.log(`no messages with ${printable(label)} yet`);
  } else {
    console.log(`chat with ${printable(label)}: ${unread.size} unread of ${entries.length} messages`);
    for (const e of entries)
      console.log(`${unread.has(e.id) ? '*' : ' '} ${localTime(e.sent)} ${printable(e.fromName || e.from)}: ${indented(e.text)}`);
  }
  marks.markRead(id, entries[entries.length - 1]);
}

/** A message of several lines stays readable under its first; every other control character is escaped. */
function indented(text: string): string {
  return text.split('\n').map(printable).join('\n    ');
}
