import type { ChatMessageView, EngineStatus } from '../../node/engine/engine-protocol';
import type { ConversationItem, FromWebview, MessagePart, RenderedMessage } from './chat-messages';
import { joinSpacePath } from '../app/space-paths';
import type { Localizer } from '../app/localizer';

/** How long a "typing" signal lasts without a new one; senders repeat it while the user types. */
export const TYPING_TIMEOUT_MS = 6_000;
/** Senders signal at most this often, so a fast typist does not flood the channel. */
const TYPING_SEND_INTERVAL_MS = 3_000;

/** Direct conversations with each contact, then one per group or published space. */
export function conversations(status: EngineStatus | undefined, unread: (id: string) => number): ConversationItem[] {
  if (!status?.identity) return [];
  const direct: ConversationItem[] = [...status.contacts]
    .sort((a, b) => a.name.localeCompare(b.name))
    // Presence is unknown without the server: no "offline, messages wait" hint on every contact.
    .map((c) => ({ id: c.id, label: c.name, kind: 'direct', unread: unread(c.id), ...(status.connected ? { presence: c.presence } : {}) }));
  const groups: ConversationItem[] = status.spaces
    .filter((s) => s.kind !== 'pair')
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => ({ id: s.id, label: s.name, kind: 'group', unread: unread(s.id) }));
  return [...direct, ...groups];
}

/**
 * The chat view's badge: unread messages only. No unread is a badge of 0, not `undefined`: VS Code
 * (1.100) ignores `undefined` on a webview view and keeps the last number; a 0 hides it.
 */
export function chatBadge(unread: number, l10n: Localizer): { value: number; tooltip: string } {
  if (unread <= 0) return { value: 0, tooltip: '' };
  return { value: unread, tooltip: unread === 1 ? l10n.t('1 unread message') : l10n.t('{0} unread messages', unread) };
}

/** The line the chat shows while the server cannot be reached; undefined while connected. */
export function offlineNotice(status: EngineStatus | undefined, l10n: Localizer): string | undefined {
  if (!status?.identity || status.connected) return undefined;
  return status.serverProblem !== undefined
    ? l10n.t(
        'Offline: the server is unreachable ({0}); retrying. The history is what this device has; messages can be sent once it is back.',
        status.serverProblem,
      )
    : l10n.t('Offline: not connected to the server; retrying. The history is what this device has; messages can be sent once it is back.');
}

/**
 * What the chat knows between redraws: the history of conversations it has loaded, unread counts
 * and who is typing. A message counts as unread unless its conversation is on screen when it
 * arrives; showing a conversation reads it.
 */
export class ChatState {
  private readonly histories = new Map<string, ChatMessageView[]>();
  private readonly unreadCounts = new Map<string, number>();
  private readonly typists = new Map<string, Map<string, { name: string; until: number }>>();
  private selectedConversation: string | undefined;
  private shown = false;

  constructor(private me: string | undefined) {}

  setMe(me: string | undefined): void {
    this.me = me;
  }

  get selected(): string | undefined {
    return this.selectedConversation;
  }

  get visible(): boolean {
    return this.shown;
  }

  hasHistory(conversation: string): boolean {
    return this.histories.has(conversation);
  }

  history(conversation: string): readonly ChatMessageView[] {
    return this.histories.get(conversation) ?? [];
  }

  /** Merges a loaded history with messages that arrived meanwhile; ids make it idempotent. */
  setHistory(conversation: string, messages: readonly ChatMessageView[]): void {
    const byId = new Map<string, ChatMessageView>();
    for (const m of this.histories.get(conversation) ?? []) byId.set(m.id, m);
    for (const m of messages) byId.set(m.id, m);
    this.histories.set(
      conversation,
      [...byId.values()].sort((a, b) => a.sent - b.sent || a.id.localeCompare(b.id)),
    );
  }

  /** Records a message; returns false for one already known (an echo of our own send, a redelivery). */
  receive(message: ChatMessageView): boolean {
    const list = this.histories.get(message.conversation) ?? [];
    if (list.some((m) => m.id === message.id)) return false;
    list.push(message);
    list.sort((a, b) => a.sent - b.sent || a.id.localeCompare(b.id));
    this.histories.set(message.conversation, list);
    this.typists.get(message.conversation)?.delete(message.from);
    const onScreen = this.shown && this.selectedConversation === message.conversation;
    if (message.from !== this.me && !onScreen) {
      this.unreadCounts.set(message.conversation, this.unread(message.conversation) + 1);
    }
    return true;
  }

  select(conversation: string | undefined): void {
    this.selectedConversation = conversation;
    if (this.shown && conversation !== undefined) this.unreadCounts.delete(conversation);
  }

  setVisible(visible: boolean): void {
    this.shown = visible;
    if (visible && this.selectedConversation !== undefined) this.unreadCounts.delete(this.selectedConversation);
  }

  unread(conversation: string): number {
    return this.unreadCounts.get(conversation) ?? 0;
  }

  get totalUnread(): number {
    let total = 0;
    for (const n of this.unreadCounts.values()) total += n;
    return total;
  }

  noteTyping(conversation: string, user: string, name: string, now: number): void {
    if (user === this.me) return;
    let users = this.typists.get(conversation);
    if (!users) this.typists.set(conversation, (users = new Map()));
    users.set(user, { name, until: now + TYPING_TIMEOUT_MS });
  }

  /** Names of those typing in a conversation now; forgets expired signals. */
  typingNames(conversation: string, now: number): string[] {
    const users = this.typists.get(conversation);
    if (!users) return [];
    const names: string[] = [];
    for (const [user, t] of users) {
      if (t.until <= now) users.delete(user);
      else names.push(t.name);
    }
    return names.sort();
  }

  render(message: ChatMessageView): RenderedMessage {
    return {
      id: message.id,
      fromName: message.fromName,
      mine: message.from === this.me,
      sent: message.sent,
      parts: messageParts(message.text),
    };
  }
}

/** Rate-limits outgoing typing signals per conversation. */
export class TypingThrottle {
  private readonly last = new Map<string, number>();

  shouldSend(conversation: string, now: number): boolean {
    const previous = this.last.get(conversation);
    if (previous !== undefined && now - previous < TYPING_SEND_INTERVAL_MS) return false;
    this.last.set(conversation, now);
    return true;
  }

  /** A sent message ends the typing; the next keystroke may signal at once. */
  reset(conversation: string): void {
    this.last.delete(conversation);
  }
}

// `backticked/path`, a file:// link, an http(s) URL, or a bare relative path with a slash and a file extension.
const TOKEN = /`([^`\n]+)`|(file:\/\/\/?[^\s<>"']+)|(https?:\/\/[^\s<>"']+)|((?:[\w.@-]+\/)+[\w@-][\w.@-]*\.\w+)/g;

/** Splits a message into text, file mentions and web links; the webview only lays them out. */
export function messageParts(text: string): MessagePart[] {
  const parts: MessagePart[] = [];
  let last = 0;
  const push = (part: MessagePart): void => {
    const previous = parts[parts.length - 1];
    if (part.kind === 'text' && previous?.kind === 'text') parts[parts.length - 1] = { kind: 'text', text: previous.text + part.text };
    else parts.push(part);
  };
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    const [whole, quoted, fileUrl, webUrl, bare] = match;
    let part: MessagePart;
    if (quoted !== undefined) {
      if (!looksLikePath(quoted)) continue;
      part = { kind: 'file', text: whole, target: quoted };
    } else if (fileUrl !== undefined) {
      part = { kind: 'file', text: fileUrl, target: fileUrl };
    } else if (webUrl !== undefined) {
      const href = webUrl.replace(/[.,;:!?)]+$/, '');
      if (index > last) push({ kind: 'text', text: text.slice(last, index) });
      push({ kind: 'url', text: href, href });
      last = index + href.length;
      continue;
    } else if (bare !== undefined) {
      // Not the tail of something longer (an e-mail address, a URL the other patterns missed).
      const before = index > 0 ? text[index - 1] : ' ';
      if (before !== undefined && /[\w/:.@-]/.test(before)) continue;
      part = { kind: 'file', text: bare, target: bare };
    } else {
      continue;
    }
    if (index > last) push({ kind: 'text', text: text.slice(last, index) });
    push(part);
    last = index + whole.length;
  }
  if (last < text.length) push({ kind: 'text', text: text.slice(last) });
  return parts;
}

function looksLikePath(s: string): boolean {
  return !/\s/.test(s) && (s.includes('/') || /\.\w{1,8}$/.test(s)) && !s.startsWith('http');
}

/**
 * Where a file mention in a conversation may be, most likely first: in the conversation's own
 * space, or, for a direct conversation, in the spaces shared with that contact, then in any
 * space. A mention may start with the space's name (`design-notes/a.md`) or not (`a.md`).
 */
export function fileCandidates(target: string, conversation: string, status: EngineStatus | undefined): string[] {
  if (target.startsWith('file://')) return [fileUrlToPath(target)];
  const relative = target.replace(/^\.?\//, '');
  if (!status) return [];
  const own = status.spaces.filter((s) => s.id === conversation);
  const withContact = status.spaces.filter((s) => s.id !== conversation && s.members.some((m) => m.user === conversation));
  const rest = status.spaces.filter((s) => !own.includes(s) && !withContact.includes(s));
  const candidates: string[] = [];
  for (const space of [...own, ...withContact, ...rest]) {
    const [first, ...tail] = relative.split('/');
    if (first === space.name && tail.length > 0) candidates.push(joinSpacePath(space.path, tail.join('/')));
    candidates.push(joinSpacePath(space.path, relative));
  }
  return [...new Set(candidates)];
}

function fileUrlToPath(url: string): string {
  const rest = decodeURIComponent(url.replace(/^file:\/\//, ''));
  return /^\/[A-Za-z]:/.test(rest) ? rest.slice(1) : rest;
}

/** Checks a message from the webview before acting on it: the webview is a page, not trusted code. */
export function parseFromWebview(value: unknown): FromWebview | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined);
  switch (m['type']) {
    case 'ready':
      return { type: 'ready' };
    case 'select': {
      const c = str('conversation');
      return c === undefined ? undefined : { type: 'select', conversation: c };
    }
    case 'typing': {
      const c = str('conversation');
      return c === undefined ? undefined : { type: 'typing', conversation: c };
    }
    case 'send': {
      const c = str('conversation');
      const t = str('text');
      return c === undefined || t === undefined || t.trim() === '' || t.length > 64_000
        ? undefined
        : { type: 'send', conversation: c, text: t };
    }
    case 'openFile': {
      const c = str('conversation');
      const t = str('target');
      return c === undefined || t === undefined ? undefined : { type: 'openFile', conversation: c, target: t };
    }
    case 'openUrl': {
      const h = str('href');
      return h !== undefined && /^https?:\/\//.test(h) ? { type: 'openUrl', href: h } : undefined;
    }
    default:
      return undefined;
  }
}
