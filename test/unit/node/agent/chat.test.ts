import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChat } from '../../../../src/node/agent/chat';
import { MailKind } from '../../../../src/node/net/payload-kind';

function payload(sent: string): Uint8Array {
  const id = '0'.repeat(32);
  const body = `{"conversation":"${id}","from":"${id}","fromName":"","text":"hi","sent":${sent},"id":"${id}"}`;
  return new Uint8Array([MailKind.Chat, ...new TextEncoder().encode(body)]);
}

// Found by `npm run fuzz` (target mail-payloads): a sender's "sent" of -1e400 (JSON for
// -Infinity) or 1e300 came through, and the chat view's `new Date(sent).toISOString()` throws on it.
test('a chat message whose time no Date can hold is kept with time 0', () => {
  for (const sent of ['-1e400', '1e400', '1e300', '-8.64e15', '8640000000000001']) {
    const chat = parseChat(payload(sent));
    assert.ok(chat, sent);
    assert.doesNotThrow(() => new Date(chat.sent).toISOString(), sent);
  }
  assert.equal(parseChat(payload('1700000000000'))?.sent, 1_700_000_000_000);
});
