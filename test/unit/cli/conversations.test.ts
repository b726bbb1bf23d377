import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { CliError } from '../../../src/cli/cli-errors';
import { Conversations, conversationOf } from '../../../src/cli/commands/conversations';
import { appendChatHistory, type ChatEntry } from '../../../src/node/agent/chat';
import { DeviceHome } from '../../../src/node/agent/device-home';

const BOB = 'b'.repeat(32);
const CAROL = 'c'.repeat(32);
const SPACE = 'd'.repeat(32);

function entry(conversation: string, from: string, fromName: string): ChatEntry {
  return { conversation, from, fromName, text: 'hi', sent: 1, id: `${conversation}-${from}` };
}

test('conversations are named by contacts, by what senders called themselves, and by folder; found by name or id', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-conversations-'));
  try {
    const home = new DeviceHome(dir);
    home.putSpace({ id: SPACE, path: nodePath.join(dir, 'design-notes') });
    const fromBob = entry(BOB, BOB, 'bob');
    appendChatHistory(home, fromBob);
    appendChatHistory(home, entry(SPACE, 'me', 'alice'));
    assert.deepEqual(Conversations.ids(home).sort(), [BOB, SPACE]);

    const histories = new Map([
      [BOB, [fromBob]],
      [SPACE, [entry(SPACE, 'me', 'alice')]],
    ]);
    const conversations = new Conversations(home, [{ id: CAROL, name: 'carol' }], histories);
    assert.equal(conversations.label(BOB), 'bob');
    assert.equal(conversations.label(SPACE), 'design-notes (group)');
    assert.equal(conversations.label(CAROL), 'carol');
    assert.equal(conversations.find('bob'), BOB);
    assert.equal(conversations.find('design-notes'), SPACE);
    assert.equal(conversations.find(CAROL), CAROL);
    assert.equal(conversations.find('dave'), undefined);
    await assert.rejects(
      conversationOf(conversations, home, 'dave', false),
      (err: Error) => err instanceof CliError && /^dave is neither a contact nor a shared folder of this device/.test(err.message),
    );

    const twice = new Conversations(home, [{ id: CAROL, name: 'bob' }], histories);
    assert.throws(() => twice.find('bob'), /several conversations are called bob: use its id/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
