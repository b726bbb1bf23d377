import assert from 'node:assert/strict';
import * as os from 'node:os';
import { test } from 'node:test';
import { DeviceHome } from '../../../../src/node/agent/device-home';
import { parseChat } from '../../../../src/node/agent/chat';
import { MailKind } from '../../../../src/node/net/payload-kind';

function payload(sent: string, conversation = '0'.repeat(32)): Uint8Array {
  const id = '0'.repeat(32);
  const body = `{"conversation":${JSON.stringify(conversation)},"from":"${id}","fromName":"","text":"hi","sent":${sent},"id":"${id}"}`;
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

// A conversation names the chat file in the home: one that is not an id could name a path
// outside the chat folder (only this user's own devices may pick it, but no device may do that).
test('a chat message whose conversation is not an id is refused, and no chat file is named after it', () => {
  for (const conversation of ['../../identity', '/etc/passwd', 'a'.repeat(32) + '/x', 'A'.repeat(32), '']) {
    assert.equal(parseChat(payload('1', conversation)), undefined, conversation);
    assert.throws(() => new DeviceHome(os.tmpdir()).chatFile(conversation), /not a conversation id/, conversation);
  }
  assert.ok(parseChat(payload('1', 'f'.repeat(32))));
});
