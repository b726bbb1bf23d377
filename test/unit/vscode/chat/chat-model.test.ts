import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessageView } from '../../../../src/node/engine/engine-protocol';
import {
  ChatState,
  TYPING_TIMEOUT_MS,
  TypingThrottle,
  chatBadge,
  conversations,
  fileCandidates,
  messageParts,
  offlineNotice,
  parseFromWebview,
} from '../../../../src/vscode/chat/chat-model';
import { ALICE, member, space, status } from '../fixtures';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';

function msg(id: string, conversation: string, from: string, sent: number, text = 'hi'): ChatMessageView {
  return { id, conversation, from, fromName: from.replace('u-', ''), text, sent };
}

test('conversations: one per contact, then one per group folder (pair folders chat directly)', () => {
  const st = status({
    spaces: [space('s1', 'pair-notes'), space('s2', 'team', { kind: 'group' }), space('s3', 'site', { kind: 'publish' })],
  });
  const list = conversations(st, (id) => (id === 'u-bob' ? 2 : 0));
  assert.deepEqual(
    list.map((c) => [c.id, c.label, c.kind, c.unread]),
    [
      ['u-bob', 'bob', 'direct', 2],
      ['u-carol', 'carol', 'direct', 0],
      ['s3', 'site', 'group', 0],
      ['s2', 'team', 'group', 0],
    ],
  );
  assert.equal(list[1]?.presence, 'away');
  assert.deepEqual(
    conversations(undefined, () => 0),
    [],
  );
});

test('messages arriving for a conversation not on screen are unread until it is shown', () => {
  const chat = new ChatState(ALICE.user);
  assert.ok(chat.receive(msg('m1', 'u-bob', 'u-bob', 1)));
  assert.ok(chat.receive(msg('m2', 'u-bob', 'u-bob', 2)));
  assert.ok(chat.receive(msg('m3', 's2', 'u-carol', 3)));
  assert.equal(chat.unread('u-bob'), 2);
  assert.equal(chat.totalUnread, 3);
  chat.select('u-bob');
  assert.equal(chat.unread('u-bob'), 2, 'selected but the view is hidden: still unread');
  chat.setVisible(true);
  assert.equal(chat.unread('u-bob'), 0);
  assert.equal(chat.totalUnread, 1);
  chat.receive(msg('m4', 'u-bob', 'u-bob', 4));
  assert.equal(chat.unread('u-bob'), 0, 'arrives while on screen: read');
  chat.select('s2');
  assert.equal(chat.totalUnread, 0);
});

test('own messages are never unread, duplicates are dropped, history merges in order', () => {
  const chat = new ChatState(ALICE.user);
  assert.ok(chat.receive(msg('m2', 'u-bob', ALICE.user, 20)));
  assert.equal(chat.totalUnread, 0);
  assert.equal(chat.receive(msg('m2', 'u-bob', ALICE.user, 20)), false);
  chat.setHistory('u-bob', [msg('m1', 'u-bob', 'u-bob', 10), msg('m2', 'u-bob', ALICE.user, 20), msg('m3', 'u-bob', 'u-bob', 30)]);
  assert.deepEqual(
    chat.history('u-bob').map((m) => m.id),
    ['m1', 'm2', 'm3'],
  );
  assert.ok(chat.hasHistory('u-bob'));
  assert.equal(chat.render(msg('m2', 'u-bob', ALICE.user, 20)).mine, true);
  assert.equal(chat.render(msg('m1', 'u-bob', 'u-bob', 10)).mine, false);
});

test('typing signals expire, stop when that user sends, and ignore this user', () => {
  const chat = new ChatState(ALICE.user);
  chat.noteTyping('s2', 'u-carol', 'carol', 0);
  chat.noteTyping('s2', 'u-bob', 'bob', 1_000);
  chat.noteTyping('s2', ALICE.user, 'alice', 1_000);
  assert.deepEqual(chat.typingNames('s2', 2_000), ['bob', 'carol']);
  assert.deepEqual(chat.typingNames('s2', TYPING_TIMEOUT_MS + 500), ['bob']);
  chat.receive(msg('m1', 's2', 'u-bob', 5));
  assert.deepEqual(chat.typingNames('s2', 2_000), []);
});

test('typing is sent at most every few seconds per conversation, and again right after a send', () => {
  const t = new TypingThrottle();
  assert.ok(t.shouldSend('c', 0));
  assert.ok(!t.shouldSend('c', 1_000));
  assert.ok(t.shouldSend('d', 1_000));
  assert.ok(t.shouldSend('c', 3_500));
  t.reset('c');
  assert.ok(t.shouldSend('c', 3_600));
});

test('file mentions and links in messages', () => {
  assert.deepEqual(messageParts('see design-notes/spec.md, please'), [
    { kind: 'text', text: 'see ' },
    { kind: 'file', text: 'design-notes/spec.md', target: 'design-notes/spec.md' },
    { kind: 'text', text: ', please' },
  ]);
  assert.deepEqual(messageParts('open `README.md` now'), [
    { kind: 'text', text: 'open ' },
    { kind: 'file', text: '`README.md`', target: 'README.md' },
    { kind: 'text', text: ' now' },
  ]);
  assert.deepEqual(messageParts('docs at https://example.com/a/b.html.'), [
    { kind: 'text', text: 'docs at ' },
    { kind: 'url', text: 'https://example.com/a/b.html', href: 'https://example.com/a/b.html' },
    { kind: 'text', text: '.' },
  ]);
  assert.deepEqual(messageParts('file:///home/bob/x.txt'), [
    { kind: 'file', text: 'file:///home/bob/x.txt', target: 'file:///home/bob/x.txt' },
  ]);
  assert.deepEqual(messageParts('mail bob@example.com and `hello world`'), [
    { kind: 'text', text: 'mail bob@example.com and `hello world`' },
  ]);
  assert.deepEqual(messageParts('plain 1/2 text'), [{ kind: 'text', text: 'plain 1/2 text' }]);
  assert.deepEqual(messageParts(''), []);
});

test("a mention is looked up in the conversation's folder, then folders shared with the contact, then the rest", () => {
  const st = status({
    spaces: [
      space('s1', 'design-notes', { path: '/h/design-notes', members: [member('u-alice', 'alice'), member('u-bob', 'bob')] }),
      space('s2', 'team', { path: '/h/team', kind: 'group', members: [member('u-alice', 'alice'), member('u-carol', 'carol')] }),
    ],
  });
  assert.deepEqual(fileCandidates('design-notes/spec.md', 'u-bob', st), [
    '/h/design-notes/spec.md',
    '/h/design-notes/design-notes/spec.md',
    '/h/team/design-notes/spec.md',
  ]);
  assert.deepEqual(fileCandidates('a/b.md', 's2', st), ['/h/team/a/b.md', '/h/design-notes/a/b.md']);
  assert.deepEqual(fileCandidates('file:///h/team/x.md', 's2', st), ['/h/team/x.md']);
  assert.deepEqual(fileCandidates('a.md', 's2', undefined), []);
});

test('messages from the webview are checked before use', () => {
  assert.deepEqual(parseFromWebview({ type: 'send', conversation: 'c', text: 'hi' }), { type: 'send', conversation: 'c', text: 'hi' });
  assert.equal(parseFromWebview({ type: 'send', conversation: 'c', text: '   ' }), undefined);
  assert.equal(parseFromWebview({ type: 'send', conversation: 1, text: 'x' }), undefined);
  assert.equal(parseFromWebview({ type: 'openUrl', href: 'command:workbench.action.quit' }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'openUrl', href: 'https://x.org' }), { type: 'openUrl', href: 'https://x.org' });
  assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.equal(parseFromWebview({ type: 'eval' }), undefined);
  assert.equal(parseFromWebview(null), undefined);
  assert.equal(parseFromWebview('ready'), undefined);
});

test('the badge counts unread messages; none is a badge of 0 (VS Code keeps a webview badge set to undefined)', () => {
  assert.deepEqual(chatBadge(0, l10n), { value: 0, tooltip: '' });
  assert.deepEqual(chatBadge(1, l10n), { value: 1, tooltip: '1 unread message' });
  assert.deepEqual(chatBadge(3, l10n), { value: 3, tooltip: '3 unread messages' });
  const chat = new ChatState(ALICE.user);
  chat.receive(msg('m1', 'u-bob', 'u-bob', 1));
  assert.equal(chatBadge(chat.totalUnread, l10n).value, 1);
  chat.setVisible(true);
  chat.select('u-bob');
  assert.equal(chatBadge(chat.totalUnread, l10n).value, 0);
  // Replying and switching views away and back does not bring it back.
  chat.receive(msg('m2', 'u-bob', ALICE.user, 2));
  chat.setVisible(false);
  chat.setVisible(true);
  assert.equal(chatBadge(chat.totalUnread, l10n).value, 0);
});

test('offline: conversations stay with no presence claimed, and the chat says why', () => {
  const st = status({ connected: false, serverProblem: 'cannot reach the server at ws://x: connection refused' });
  const list = conversations(st, () => 0);
  assert.deepEqual(
    list.map((c) => [c.label, c.presence]),
    [
      ['bob', undefined],
      ['carol', undefined],
    ],
  );
  assert.match(
    offlineNotice(st, l10n) ?? '',
    /^Offline: the server is unreachable \(cannot reach the server at ws:\/\/x: connection refused\); retrying/,
  );
  assert.match(offlineNotice(status({ connected: false }), l10n) ?? '', /^Offline: not connected to the server; retrying/);
  assert.equal(offlineNotice(status(), l10n), undefined);
  assert.equal(offlineNotice(status({ identity: undefined, connected: false }), l10n), undefined);
});
