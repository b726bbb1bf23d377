import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { detectEol, normaliseEol } from '../../../../src/sync/coedit/eol';
import { LineStarts } from '../../../../src/sync/coedit/line-starts';
import { TextBinding, type DocumentEdit } from '../../../../src/sync/coedit/text-binding';
import { Prng } from '../../../sim/prng';
import { MemoryEditor, settle } from './memory-editor';

/** A binding on its own Y.Doc, plus a second doc standing for another device. */
function pair(initial: string, eol: '\n' | '\r\n') {
  const doc = new Y.Doc();
  doc.clientID = 1;
  doc.getText('text').insert(0, initial);
  const other = new Y.Doc();
  other.clientID = 2;
  Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
  const editor = new MemoryEditor(initial.replace(/\n/g, eol), eol);
  const binding = new TextBinding(doc.getText('text'), editor, eol);
  const applied = editor.applied;
  editor.listener = (changes, version) => binding.documentChanged(changes, version);
  const toOther = (): void => Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)));
  const fromOther = (): void => Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)), 'remote');
  return { doc, other, editor, binding, applied, toOther, fromOther };
}

test('local edits in a CRLF document land at the right place of the \\n text', () => {
  const { doc, editor } = pair('one\ntwo\nthree', '\r\n');
  // "one\r\ntwo\r\nthree": offset 10 is the start of "three" in the document, 8 in the shared text.
  editor.edit(10, 0, '3 ');
  assert.equal(doc.getText('text').toString(), 'one\ntwo\n3 three');
  // Deleting a whole CRLF removes one \n; inserted breaks of any kind arrive as \n.
  editor.edit(3, 2, ' & ');
  editor.edit(0, 0, 'a\rb\r\nc\n');
  assert.equal(doc.getText('text').toString(), 'a\nb\nc\none & two\n3 three');
  assert.equal(editor.text, 'a\r\nb\r\nc\r\none & two\r\n3 three');
});

test("remote changes arrive as minimal edits in document offsets, with the document's line breaks", () => {
  const { doc, other, editor, binding, applied, fromOther } = pair('alpha\nbeta\ngamma\n', '\r\n');
  other.getText('text').insert(11, 'GAMMA\n'); // before "gamma"
  other.getText('text').delete(0, 1);
  fromOther();
  assert.equal(editor.text, 'lpha\r\nbeta\r\nGAMMA\r\ngamma\r\n');
  assert.deepEqual(applied, [
    [
      { offset: 13, deleteCount: 0, insertText: 'GAMMA\r\n' },
      { offset: 0, deleteCount: 1, insertText: '' },
    ],
  ]);
  assert.equal(binding.documentText(), editor.text);
  assert.equal(doc.getText('text').toString(), 'lpha\nbeta\nGAMMA\ngamma\n');
});

test('applying remote edits does not loop back into the shared text', async () => {
  const { doc, other, editor, fromOther } = pair('abc', '\n');
  let localUpdates = 0;
  doc.on('update', (_u: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') localUpdates++;
  });
  other.getText('text').insert(1, 'X');
  fromOther();
  await settle();
  assert.equal(editor.text, 'aXbc');
  assert.equal(localUpdates, 0, 'the report of a remote edit is not a new local edit');
  editor.edit(0, 0, '>');
  assert.equal(localUpdates, 1);
  assert.equal(doc.getText('text').toString(), '>aXbc');
});

test('several changes in one report refer to the document before the report', () => {
  const { doc, editor, binding } = pair('aaa\nbbb\nccc', '\r\n');
  // Two cursors typing at once, listed in ascending order as an editor may do.
  const changes = [
    { offset: 0, deleteCount: 0, insertText: '1' },
    { offset: 5, deleteCount: 0, insertText: '2' },
  ];
  editor.text = '1aaa\r\n2bbb\r\nccc';
  binding.documentChanged(changes, ++editor.version);
  assert.equal(doc.getText('text').toString(), '1aaa\n2bbb\nccc');
});

/** An editor whose answers and reports wait until the test lets them through, like a window across an RPC channel. */
class SlowEditor extends MemoryEditor {
  readonly requests: { edits: readonly DocumentEdit[]; version: number; answer: (ok: boolean) => void }[] = [];
  override apply(edits: readonly DocumentEdit[], version: number): Promise<boolean> {
    return new Promise((answer) => this.requests.push({ edits, version, answer }));
  }
  /** The window takes the oldest request: applied (and reported) only at its version. */
  async handle(reportFirst = true): Promise<boolean> {
    const r = this.requests.shift()!;
    if (reportFirst) {
      const ok = await super.apply(r.edits, r.version);
      r.answer(ok);
      return ok;
    }
    // The answer overtakes the report.
    const listener = this.listener;
    let report: (() => void) | undefined;
    this.listener = (changes, version) => (report = () => listener?.(changes, version));
    const ok = await super.apply(r.edits, r.version);
    this.listener = listener;
    r.answer(ok);
    await settle();
    report?.();
    return ok;
  }
}

function slowPair(initial: string) {
  const doc = new Y.Doc();
  const text = doc.getText('text');
  text.insert(0, initial);
  const editor = new SlowEditor(initial, '\n');
  const binding = new TextBinding(text, editor, '\n');
  editor.listener = (changes, version) => binding.documentChanged(changes, version);
  return { text, editor, binding };
}

test('typing while a remote batch is on its way lands where the user saw it; the refused batch goes again over it', async () => {
  const { text, editor, binding } = slowPair('ABC\n');
  text.insert(0, 'bo'); // remote: handed to the editor, not applied yet
  assert.equal(editor.requests.length, 1);
  editor.edit(3, 0, 'x'); // the user typed after "ABC", in a document without "bo"
  assert.equal(await editor.handle(), false, 'the window refuses a batch made against an older version');
  await settle();
  assert.equal(text.toString(), 'boABCx\n', 'the keystroke is after C, not two characters early');
  assert.equal(editor.requests.length, 1, 'the batch went again');
  assert.equal(await editor.handle(), true);
  await settle();
  assert.equal(editor.text, 'boABCx\n');
  assert.equal(text.toString(), 'boABCx\n', "the batch's report was not shared again");
  assert.equal(binding.settled, true);
});

test('an applied batch is recognised by its version whether its answer or its report comes first, in any shape', async () => {
  for (const reportFirst of [true, false]) {
    const { text, editor, binding } = slowPair('one one\n');
    text.insert(4, 'o'); // "one oone": a diff could not tell which "o" is new
    assert.equal(await editor.handle(reportFirst), true);
    await settle();
    editor.edit(8, 0, '!');
    await settle();
    assert.equal(text.toString(), 'one oone!\n', `report first: ${reportFirst}`);
    assert.equal(editor.text, 'one oone!\n');
    assert.equal(binding.settled, true);
  }
  // The window reports the batch reshaped (VS Code merges touching ranges): still the batch.
  const { text, editor, binding } = slowPair('abcdef');
  text.doc!.transact(() => {
    text.delete(1, 1);
    text.insert(2, 'X');
  }, 'remote');
  const request = editor.requests.shift()!;
  const listener = editor.listener!;
  editor.listener = (_changes, version) => listener([{ offset: 1, deleteCount: 2, insertText: 'cX' }], version);
  request.answer(await MemoryEditor.prototype.apply.call(editor, request.edits, request.version));
  editor.listener = listener;
  await settle();
  assert.equal(editor.text, 'acXdef');
  assert.equal(binding.repairs, 0);
  assert.equal(binding.settled, true);
});

test('keystrokes held while a batch is unanswered go in after it, in order, each exactly once', async () => {
  const { text, editor } = slowPair('# Notes\n\n');
  text.insert(9, 'alice one\n'); // remote, on its way
  // bob types at the top meanwhile: his document lacks alice's line.
  for (const [i, ch] of [...'bob one\n'].entries()) editor.edit(i, 0, ch);
  assert.equal(await editor.handle(), false);
  await settle();
  assert.equal(await editor.handle(), true);
  await settle();
  assert.equal(text.toString(), 'bob one\n# Notes\n\nalice one\n');
  assert.equal(editor.text, text.toString());
});

test("a reader's binding takes remote changes and refuses its own, which are undone", async () => {
  const doc = new Y.Doc();
  doc.getText('text').insert(0, 'shared\ntext\n');
  const editor = new MemoryEditor('shared\r\ntext\r\n', '\r\n');
  let refused = 0;
  const binding = new TextBinding(doc.getText('text'), editor, '\r\n', true, { refused: () => refused++ });
  editor.listener = (changes, version) => binding.documentChanged(changes, version);
  editor.edit(0, 0, 'mine ');
  assert.equal(refused, 1);
  assert.equal(doc.getText('text').toString(), 'shared\ntext\n', "the reader's typing never enters the shared text");
  await settle();
  assert.equal(editor.text, 'shared\r\ntext\r\n', 'and is undone');
  doc.getText('text').insert(7, 'more ');
  await settle();
  assert.equal(editor.text, 'shared\r\nmore text\r\n');
  assert.equal(refused, 1);
});

test('cursors map between the document and the shared text over changes not shown yet', () => {
  const { text, editor, binding } = slowPair('hello world');
  text.insert(0, '>> '); // on its way, not in the document
  text.insert(14, '!!'); // "...world!!"
  assert.equal(editor.text, 'hello world');
  assert.equal(binding.toTextOffset(6), 9, "the cursor before 'w' is before 'w' in the shared text");
  assert.equal(binding.toDocumentOffset(9), 6);
  assert.equal(binding.toDocumentOffset(1), 0, 'inside text not shown yet: at its insertion point');
  assert.equal(binding.toDocumentOffset(16), 11);
});

test('a document changed behind the binding, or a batch applied over typing, is found and repaired', async () => {
  const { text, editor, binding } = slowPair('abc');
  editor.text = 'abXc'; // no report: an editor that broke its promise
  assert.equal(binding.verify(), false);
  assert.equal(binding.repairs, 1);
  assert.equal(await editor.handle(), true);
  await settle();
  assert.equal(editor.text, 'abc', 'the shared text wins');
  assert.equal(binding.verify(), true);
  // A window that applies a batch without checking the version (workspace.applyEdit on the active editor).
  text.insert(0, 'R');
  editor.edit(3, 0, 'u');
  const request = editor.requests.shift()!;
  for (const e of request.edits) editor.text = editor.text.slice(0, e.offset) + e.insertText + editor.text.slice(e.offset + e.deleteCount);
  editor.version++;
  editor.listener!(request.edits, editor.version);
  request.answer(true);
  await settle();
  assert.equal(binding.repairs, 2, 'the report of a version other than the one after the batch is not taken for it');
  await editor.handle();
  await settle();
  assert.equal(editor.text, text.toString());
});

test("line breaks: normalised to \\n, and the majority style is the document's", () => {
  assert.equal(normaliseEol('a\r\nb\rc\nd'), 'a\nb\nc\nd');
  assert.equal(detectEol('a\r\nb\r\nc\n'), '\r\n');
  assert.equal(detectEol('a\r\nb\nc\n'), '\n');
  assert.equal(detectEol('no breaks'), '\n');
  assert.equal(detectEol('a\rb\r'), '\r\n', 'old Mac breaks count as carriage returns, and VS Code saves them as CRLF');
});

test('LineStarts maps offsets like a string scan does, through random edits', () => {
  const rng = new Prng(7);
  let text = 'a\nbb\n\nccc';
  const lines = new LineStarts(text);
  for (let i = 0; i < 2000; i++) {
    const at = rng.int(text.length + 1);
    const del = Math.min(rng.int(4), text.length - at);
    const ins = rng.pick(['', 'x', '\n', 'y\nz', '\n\n']);
    text = text.slice(0, at) + ins + text.slice(at + del);
    lines.splice(at, del, ins);
    const probe = rng.int(text.length + 1);
    const crlf = text.replace(/\n/g, '\r\n');
    const expected = crlf.slice(0, probe + (text.slice(0, probe).match(/\n/g)?.length ?? 0)).length;
    assert.equal(lines.toCrlf(probe), expected);
    assert.equal(lines.fromCrlf(expected), probe);
  }
});

test('an editor that refuses every batch with nothing typed is given up on, not asked forever', async () => {
  const doc = new Y.Doc();
  const text = doc.getText('text');
  text.insert(0, 'abc');
  const editor = new MemoryEditor('abc', '\n');
  let asked = 0;
  editor.apply = () => {
    asked++;
    return Promise.resolve(false);
  };
  let gaveUp = 0;
  new TextBinding(text, editor, '\n', false, { gaveUp: () => gaveUp++ });
  text.insert(0, 'X');
  for (let i = 0; i < 50; i++) await settle();
  assert.equal(gaveUp, 1);
  assert.equal(asked, 9, 'asked a few times, then no more');
});
