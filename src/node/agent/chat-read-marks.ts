import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { ChatEntry } from './chat';
import type { DeviceHome } from './device-home';
import { writeAtomic } from '../disk/durable-write';

/** Where a conversation was last read: its last message then, by id, and when that message was sent. */
interface ReadMark {
  readonly id: string;
  readonly sent: number;
}

/**
 * How far the user has read each conversation on this device, kept in the home (one small file
 * per conversation, `chat/<conversation>.read`, so marking one never loses a mark another
 * process wrote for another). Whoever shows a conversation (a one-shot command reading the
 * history file, or one reading it through the daemon) counts and moves the mark with this.
 * The user's own messages are never unread.
 */
export class ChatReadMarks {
  constructor(
    private readonly home: DeviceHome,
    /** This device's user id: its messages count as read. */
    private readonly me: string,
  ) {}

  /** The messages of `history` (oldest first) the user has not read. */
  unread(conversation: string, history: readonly ChatEntry[]): ChatEntry[] {
    const mark = this.mark(conversation);
    let after: readonly ChatEntry[] = history;
    if (mark) {
      const at = history.findIndex((e) => e.id === mark.id);
      // A mark whose message is not in the history (a history from elsewhere): by time instead.
      after = at >= 0 ? history.slice(at + 1) : history.filter((e) => e.sent > mark.sent);
    }
    return after.filter((e) => e.from !== this.me);
  }

  /** Everything up to and including `last`, in the history's order (arrival, not send time), is read. */
  markRead(conversation: string, last: ChatEntry | undefined): void {
    if (!last || this.mark(conversation)?.id === last.id) return;
    const file = this.file(conversation);
    fs.mkdirSync(nodePath.dirname(file), { recursive: true });
    writeAtomic(file, JSON.stringify({ id: last.id, sent: last.sent } satisfies ReadMark), 0o600);
  }

  private mark(conversation: string): ReadMark | undefined {
    try {
      const o = JSON.parse(fs.readFileSync(this.file(conversation), 'utf8')) as Partial<ReadMark>;
      return typeof o.id === 'string' && typeof o.sent === 'number' ? { id: o.id, sent: o.sent } : undefined;
    } catch {
      return undefined;
    }
  }

  private file(conversation: string): string {
    return this.home.chatFile(conversation).replace(/\.jsonl$/, '.read');
  }
}
