import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colourFor } from '../../../../src/sync/coedit/colour';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { CoeditProtocolError, COEDIT_VERSION, decodeFrame, encodeFrame, FrameKind } from '../../../../src/sync/coedit/coedit-frame';
import { COEDIT_MAX_BYTES, CoeditLimitError, CoeditSession, offersCoedit } from '../../../../src/sync/coedit/coedit-session';
import { seedUpdate } from '../../../../src/sync/coedit/shared-document';
import { TextBinding } from '../../../../src/sync/coedit/text-binding';
import { MemoryEditor, settle } from './memory-editor';

/** Sessions wired by hand: frames wait in `outbox` until the test delivers them. */
class Cluster {
  readonly sessions = new Map<string, CoeditSession>();
  readonly outbox: { from: string; to: string; frame: Uint8Array }[] = [];

  /** `seed` undefined: a joiner, whose document starts empty. */
  add(name: string, seed: string | undefined, extra: { localText?: string; maxBytes?: number } = {}): CoeditSession {
    const session = new CoeditSession({
      ...(seed !== undefined ? { seed } : {}),
      ...extra,
      user: { id: `id-${name}`, name },
      clientId: this.sessions.size + 1,
      broadcast: (frame) => {
        for (const to of this.sessions.keys()) if (to !== name) this.outbox.push({ from: name, to, frame });
      },
    });
    this.sessions.set(name, session);
    return session;
  }

  join(name: string, to?: string): void {
    for (const frame of this.sessions.get(name)!.join()) {
      for (const peer of this.sessions.keys())
        if (peer !== name && (to === undefined || peer === to)) this.outbox.push({ from: name, to: peer, frame });
    }
  }

  /** Delivers frames, and their replies, until nothing is left. Returns how many were delivered. */
  settle(): number {
    let n = 0;
    while (this.outbox.length > 0) {
      const m = this.outbox.shift()!;
      n++;
      for (const reply of this.sessions.get(m.to)!.receive(m.frame, m.from)) this.outbox.push({ from: m.to, to: m.from, frame: reply });
    }
    return n;
  }

  destroy(): void {
    for (const s of this.sessions.values()) s.destroy();
  }
}

test('sessions seeded separately from the same file do not double its text', () => {
  assert.deepEqual(seedUpdate('same\r\ntext'), seedUpdate('same\r\ntext'), 'the seed is the same bytes on every device');
  const c = new Cluster();
  try {
    const a = c.add('a', 'same\r\ntext');
    const b = c.add('b', 'same\r\ntext');
    c.join('a');
    c.join('b');
    c.settle();
    assert.equal(a.text.toString(), 'same\ntext');
    assert.equal(b.text.toString(), 'same\ntext');
    assert.equal(a.eol, '\r\n');
  } finally {
    c.destroy();
  }
});

test('a late joiner catches up with a long session in one reply', () => {
  const c = new Cluster();
  try {
    const a = c.add('a', 'start\n');
    const b = c.add('b', 'start\n');
    c.join('a');
    c.join('b');
    c.settle();
    for (let i = 0; i < 500; i++) {
      const s = i % 2 === 0 ? a : b;
      s.text.insert(s.text.length * (i % 3 === 0 ? 0 : 1), `line ${i}\n`);
      if (i % 7 === 0) s.text.delete(0, 2);
      c.settle();
    }
    assert.equal(a.text.toString(), b.text.toString());
    const late = c.add('late', 'start\n');
    const [joinFrame] = late.join();
    const replies = a.receive(joinFrame!, 'late');
    assert.equal(late.text.toString(), 'start\n');
    // The first reply is sync step 2: everything the joiner lacked, in one frame.
    late.receive(replies[0]!, 'a');
    assert.equal(late.text.toString(), a.text.toString());
    assert.ok(replies.length <= 3, 'step 2, our own step 1, and who is here');
  } finally {
    c.destroy();
  }
});

test('unsaved edits made alone merge with what the others typed meanwhile', () => {
  const c = new Cluster();
  try {
    const a = c.add('a', 'one\ntwo\nthree\n');
    c.join('a');
    a.text.insert(0, 'zero\n');
    // b opened the file with unsaved changes at the end, before it could reach anybody.
    const b = c.add('b', 'one\ntwo\nthree\n', { localText: 'one\ntwo\nthree\nfour\n' });
    c.join('b');
    c.settle();
    assert.equal(a.text.toString(), 'zero\none\ntwo\nthree\nfour\n');
    assert.equal(b.text.toString(), a.text.toString());
  } finally {
    c.destroy();
  }
});

test('a joiner starts empty and takes the session in one step; synced says when', async () => {
  const c = new Cluster();
  try {
    const a = c.add('a', 'first\r\nsecond\r\n');
    const b = c.add('b', 'first\r\nsecond\r\n');
    c.join('a');
    c.join('b');
    c.settle();
    a.text.insert(0, 'typed by a\n');
    c.settle();
    assert.equal(a.isSynced, true, 'a seeded session holds its state at once');
    const joiner = c.add('joiner', undefined);
    assert.equal(joiner.text.toString(), '');
    assert.equal(joiner.isSynced, false);
    let synced = false;
    void joiner.synced.then(() => (synced = true));
    const [joinFrame] = joiner.join();
    const replies = a.receive(joinFrame!, 'joiner');
    // Step 2 first: the whole state, seed and edits, in one frame; the line break comes with it.
    joiner.receive(replies[0]!, 'a');
    await Promise.resolve();
    assert.equal(joiner.isSynced, true);
    assert.equal(synced, true);
    assert.equal(joiner.text.toString(), 'typed by a\nfirst\nsecond\n');
    assert.equal(joiner.eol, '\r\n');
    // Its own changes then reach everybody like any edit.
    joiner.applyText('typed by a\nfirst\nsecond\nby the joiner\n');
    c.settle();
    assert.equal(a.text.toString(), 'typed by a\nfirst\nsecond\nby the joiner\n');
    assert.equal(b.text.toString(), a.text.toString());
  } finally {
    c.destroy();
  }
});

test('a joiner cannot bring unsaved edits without the seed they were made against', () => {
  assert.throws(() => new CoeditSession({ localText: 'x', user: { id: 'u', name: 'u' }, broadcast: () => undefined }), TypeError);
});

test('remote cursors keep to their character while others edit before them', () => {
  const c = new Cluster();
  try {
    const a = c.add('a', 'hello world');
    const b = c.add('b', 'hello world');
    c.join('a');
    c.join('b');
    c.settle();
    a.setLocalSelection({ anchor: 6, head: 11 }); // "world"
    c.settle();
    b.text.insert(0, '>> ');
    b.text.delete(3, 2); // "he"
    c.settle();
    assert.equal(b.text.toString(), '>> llo world');
    const [cursor] = b.remoteCursors();
    assert.deepEqual(cursor, {
      clientId: a.doc.clientID,
      user: { id: 'id-a', name: 'a', colour: colourFor('id-a') },
      selection: { anchor: 7, head: 12 },
    });
    assert.equal(b.text.toString().slice(7, 12), 'world');
    // A cursor also survives the deletion of its own character: it stays where the text was.
    a.text.delete(6, 2); // " w"
    c.settle();
    assert.equal(b.text.toString(), '>> lloorld');
    assert.deepEqual(b.remoteCursors()[0]!.selection, { anchor: 6, head: 10 });
    b.memberGone('a');
    assert.deepEqual(b.remoteCursors(), [], 'a member whose channel closed shows no cursor');
  } finally {
    c.destroy();
  }
});

test('a member that goes takes only its own cursor along', () => {
  const c = new Cluster();
  try {
    const a = c.add('a', 'x');
    c.add('b', 'x');
    c.join('a');
    c.join('b');
    c.settle();
    const late = c.add('late', 'x');
    c.join('late');
    c.settle();
    assert.deepEqual(
      a.remoteCursors().map((r) => r.user.name),
      ['b', 'late'],
    );
    assert.deepEqual(
      late.remoteCursors().map((r) => r.user.name),
      ['a', 'b'],
    );
    late.memberGone('a');
    assert.deepEqual(
      late.remoteCursors().map((r) => r.user.name),
      ['b'],
      "a's answer to the joiner did not speak for b",
    );
  } finally {
    c.destroy();
  }
});

test('leaving tells the others: its presence disappears', () => {
  const c = new Cluster();
  const a = c.add('a', 'x');
  const b = c.add('b', 'x');
  try {
    c.join('a');
    c.join('b');
    c.settle();
    assert.equal(b.remoteCursors().length, 1);
    a.destroy();
    c.settle();
    assert.equal(b.remoteCursors().length, 0);
  } finally {
    c.destroy();
  }
});

test('two bound editors type together over sessions and end with the same bytes', async () => {
  const c = new Cluster();
  try {
    const seed = 'a\r\nb\r\n';
    const editors = ['p', 'q'].map((name) => {
      const session = c.add(name, seed);
      const editor = new MemoryEditor(seed, session.eol);
      const binding = new TextBinding(session.text, editor, session.eol);
      editor.listener = (changes, version) => binding.documentChanged(changes, version);
      return editor;
    });
    c.join('p');
    c.join('q');
    c.settle();
    editors[0]!.edit(3, 0, 'P\n');
    editors[1]!.edit(6, 0, 'Q');
    c.settle();
    await settle();
    assert.equal(editors[0]!.text, 'a\r\nP\r\nb\r\nQ');
    assert.equal(editors[1]!.text, editors[0]!.text);
  } finally {
    c.destroy();
  }
});

test('files over the size limit get no session', () => {
  assert.equal(COEDIT_MAX_BYTES, 5 * 1024 * 1024);
  assert.equal(offersCoedit(COEDIT_MAX_BYTES), true);
  assert.equal(offersCoedit(COEDIT_MAX_BYTES + 1), false);
  const c = new Cluster();
  try {
    assert.throws(() => c.add('a', 'é'.repeat(6), { maxBytes: 11 }), CoeditLimitError, 'the limit is in UTF-8 bytes');
    assert.throws(() => c.add('b', 'small', { maxBytes: 11, localText: 'x'.repeat(12) }), CoeditLimitError);
    c.add('c', 'é'.repeat(5), { maxBytes: 11 });
  } finally {
    c.destroy();
  }
});

test('frames carry a version and a kind; bad frames are refused and change nothing', () => {
  const c = new Cluster();
  try {
    const a = c.add('a', 'text');
    const [join] = a.join();
    assert.equal(join![0], COEDIT_VERSION);
    assert.equal(decodeFrame(join!).kind, FrameKind.Join);
    const b = c.add('b', 'text');
    const refused = (frame: Uint8Array, code: string): void => {
      assert.throws(
        () => b.receive(frame, 'a'),
        (err: unknown) => err instanceof CoeditProtocolError && err.code === code,
      );
    };
    refused(Uint8Array.of(COEDIT_VERSION + 1, FrameKind.Sync, 0, 0), 'version');
    refused(Uint8Array.of(COEDIT_VERSION, 9, 0), 'kind');
    refused(Uint8Array.of(COEDIT_VERSION), 'malformed');
    refused(Uint8Array.of(COEDIT_VERSION, FrameKind.Sync, 2, 5, 1, 2), 'malformed');
    refused(Uint8Array.of(COEDIT_VERSION, FrameKind.Awareness, 3, 1), 'malformed');
    assert.equal(b.text.toString(), 'text');
  } finally {
    c.destroy();
  }
});

// Found by `npm run fuzz` (target coedit-frame): Yjs applies a delete set range by range while
// reading it, so an update cut short after its first ranges deleted text and then threw.
test('an update cut short anywhere is refused and changes nothing', () => {
  const seed = 'one two three four five\n';
  const c = new Cluster();
  try {
    const author = c.add('author', seed);
    c.add('other', seed);
    author.applyText('one three five\n'); // two separate deletions: two ranges in the delete set
    const frame = c.outbox.find((m) => m.from === 'author' && decodeFrame(m.frame).kind === FrameKind.Sync)!.frame;
    const payload = decoding.createDecoder(decodeFrame(frame).payload);
    const type = decoding.readVarUint(payload);
    const update = decoding.readVarUint8Array(payload);
    let refused = 0;
    for (let length = 0; length < update.length; length++) {
      // A well-formed sync message around an update that stops early.
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, type);
      encoding.writeVarUint8Array(e, update.subarray(0, length));
      const reader = new CoeditSession({ seed, user: { id: 'id-r', name: 'r' }, clientId: 99, broadcast: () => undefined });
      try {
        reader.receive(encodeFrame(FrameKind.Sync, encoding.toUint8Array(e)), 'author');
      } catch (err) {
        assert.ok(err instanceof CoeditProtocolError);
        refused++;
        assert.equal(reader.text.toString(), seed, `update cut at ${length} of ${update.length} bytes`);
      } finally {
        reader.destroy();
      }
    }
    assert.ok(refused > 0);
  } finally {
    c.destroy();
  }
});

test('colourFor is stable per user and spreads users over the palette', () => {
  assert.equal(colourFor('alice'), colourFor('alice'));
  assert.match(colourFor('alice'), /^#[0-9a-f]{6}$/);
  const colours = new Set(Array.from({ length: 50 }, (_, i) => colourFor(`user-${i}`)));
  assert.ok(colours.size >= 8, `${colours.size} colours for 50 users`);
});
