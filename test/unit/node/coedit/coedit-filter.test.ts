import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { readerMayPass } from '../../../../src/node/coedit/coedit-filter';
import { encodeFrame, FrameKind } from '../../../../src/sync/coedit/coedit-frame';
import { CoeditSession } from '../../../../src/sync/coedit/coedit-session';

function session(name: string, out: Uint8Array[]): CoeditSession {
  return new CoeditSession({ seed: 'hello\n', user: { id: name, name }, broadcast: (f) => out.push(f) });
}

function syncPayload(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
}

test('reader filter: presence and state vectors pass, every frame that could change a document stops', () => {
  const fromA: Uint8Array[] = [];
  const fromB: Uint8Array[] = [];
  const a = session('a', fromA);
  const b = session('b', fromB);
  const [join, awareness] = a.join();
  assert.equal(join![1], FrameKind.Join);
  assert.ok(readerMayPass(join!), 'a join (sync step 1)');
  assert.ok(readerMayPass(awareness!), 'an awareness frame');
  // b answers the join: step 2 (a document's content), its own step 1, its presence.
  const [step2, step1, presence] = b.receive(join!, 'a');
  assert.equal(step2![1], FrameKind.Sync);
  assert.equal(readerMayPass(step2!), false, 'sync step 2');
  assert.ok(readerMayPass(step1!), 'sync step 1');
  assert.ok(readerMayPass(presence!), 'presence');
  a.text.insert(0, 'typed ');
  const update = fromA.find((f) => f[1] === FrameKind.Sync);
  assert.ok(update, 'a local change was broadcast');
  assert.equal(readerMayPass(update), false, 'an update');
  a.destroy();
  b.destroy();
});

test('reader filter: a join carrying an update, padded numbers, other versions, kinds and garbage', () => {
  const doc = new Y.Doc();
  doc.getText('text').insert(0, 'evil');
  const update = Y.encodeStateAsUpdate(doc);
  // The session applies whatever sync message a join holds: the filter looks inside it too.
  assert.equal(
    readerMayPass(
      encodeFrame(
        FrameKind.Join,
        syncPayload((e) => syncProtocol.writeUpdate(e, update)),
      ),
    ),
    false,
  );
  assert.equal(
    readerMayPass(
      encodeFrame(
        FrameKind.Join,
        syncPayload((e) => syncProtocol.writeSyncStep2(e, doc)),
      ),
    ),
    false,
  );
  // lib0 reads 0x80 0x00 as 0 (step 1), and 0x82 0x00 as 2 (an update): the filter reads as it does.
  assert.ok(readerMayPass(encodeFrame(FrameKind.Sync, new Uint8Array([0x80, 0x00, 0x00]))));
  assert.equal(readerMayPass(encodeFrame(FrameKind.Sync, new Uint8Array([0x82, 0x00, 0x00]))), false);
  assert.equal(readerMayPass(encodeFrame(FrameKind.Sync, new Uint8Array([0x80]))), false, 'a number cut short');
  assert.equal(readerMayPass(encodeFrame(FrameKind.Sync, new Uint8Array([]))), false, 'no payload');
  assert.equal(readerMayPass(new Uint8Array([2, FrameKind.Awareness, 0])), false, 'another version');
  assert.equal(readerMayPass(new Uint8Array([1, 9, 0])), false, 'an unknown kind');
  assert.equal(readerMayPass(new Uint8Array([1])), false, 'one byte');
  assert.equal(readerMayPass(new Uint8Array([])), false, 'nothing');
});
