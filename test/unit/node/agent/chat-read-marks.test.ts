import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import type { ChatEntry } from '../../../../src/node/agent/chat';
import { ChatReadMarks } from '../../../../src/node/agent/chat-read-marks';
import { DeviceHome } from '../../../../src/node/agent/device-home';

const ME = 'me';
const BOB = 'b0b'.padEnd(32, '0');

function entry(id: string, from: string, sent: number): ChatEntry {
  return { conversation: BOB, from, fromName: from === ME ? 'alice' : 'bob', text: `message ${id}`, sent, id };
}

function withHome(run: (home: DeviceHome) => void): void {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-read-marks-'));
  try {
    run(new DeviceHome(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("without a mark every message of others is unread; the user's own never are", () => {
  withHome((home) => {
    const marks = new ChatReadMarks(home, ME);
    const history = [entry('1', BOB, 1), entry('2', ME, 2), entry('3', BOB, 3)];
    assert.deepEqual(
      marks.unread(BOB, history).map((e) => e.id),
      ['1', '3'],
    );
  });
});

test('marking read moves the mark to that message: later ones are unread, for every reader of the home', () => {
  withHome((home) => {
    const history = [entry('1', BOB, 1), entry('2', BOB, 2)];
    new ChatReadMarks(home, ME).markRead(BOB, history[1]);
    const later = [...history, entry('3', BOB, 3)];
    assert.deepEqual(
      new ChatReadMarks(home, ME).unread(BOB, later).map((e) => e.id),
      ['3'],
    );
    assert.deepEqual(new ChatReadMarks(home, ME).unread('other-conversation', later).length, 3, 'marks are per conversation');
  });
});

test('the order is arrival order: a message that arrives later with an older send time is still unread', () => {
  withHome((home) => {
    const marks = new ChatReadMarks(home, ME);
    marks.markRead(BOB, entry('1', BOB, 100));
    const history = [entry('1', BOB, 100), entry('late', BOB, 50)];
    assert.deepEqual(
      marks.unread(BOB, history).map((e) => e.id),
      ['late'],
    );
  });
});

test('a mark whose message is not in the history falls back to send times; a damaged mark counts as none', () => {
  withHome((home) => {
    const marks = new ChatReadMarks(home, ME);
    marks.markRead(BOB, entry('gone', BOB, 10));
    assert.deepEqual(
      marks.unread(BOB, [entry('a', BOB, 5), entry('b', BOB, 20)]).map((e) => e.id),
      ['b'],
    );
    fs.writeFileSync(home.chatFile(BOB).replace(/\.jsonl$/, '.read'), '{torn');
    assert.equal(marks.unread(BOB, [entry('a', BOB, 5)]).length, 1);
  });
});

test('the mark does not sit among the histories (*.jsonl)', () => {
  withHome((home) => {
    new ChatReadMarks(home, ME).markRead(BOB, entry('1', BOB, 1));
    assert.deepEqual(fs.readdirSync(nodePath.dirname(home.chatFile(BOB))), [`${BOB}.read`]);
  });
});
