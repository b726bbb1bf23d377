import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { detectEol, normaliseEol } from '../../../../src/sync/coedit/eol';
import { LineStarts } from '../../../../src/sync/coedit/line-starts';
import { mapOffset, TextBinding, type DocumentEdit } from '../../../../src/sync/coedit/text-binding';
import { Prng } from '../../../sim/prng';
import { MemoryEditor } from './memory-editor';

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
  const applied: DocumentEdit[][] = [];
  editor.listener = (changes) => binding.documentChanged(changes);
  const realApply = editor.applyEdits.bind(editor);
  editor.applyEdits = (edits) => {
    applied.push([...edits]);
    realApply(edits);
  };
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

test('applying remote edits does not loop back into the shared text', () => {
  const { doc, other, editor, fromOther } = pair('abc', '\n');
  let localUpdates = 0;
  doc.on('update', (_u: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') localUpdates++;
  });
  other.getText('text').insert(1, 'X');
  fromOther();
  assert.equal(editor.text, 'aXbc');
  assert.equal(localUpdates, 0, 'the echo of a remote edit is not a new local edit');
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
  binding.documentChanged(changes);
  assert.equal(doc.getText('text').toString(), '1aaa\n2bbb\nccc');
});

test('resync brings a diverged document back to the shared text with small edits', () => {
  const { editor, binding, applied } = pair('hello world\nbye', '\n');
  editor.text = 'hello there world\nbye'; // as if an edit had landed in the wrong place
  binding.resync(editor.text);
  assert.equal(editor.text, 'hello world\nbye');
  assert.deepEqual(applied, [[{ offset: 6, deleteCount: 6, insertText: '' }]]);
});

test('typing while a remote batch is on its way lands where the user saw it, and a refused batch is made up for', () => {
  // An editor like VS Code: a batch arrives later than asked, and is refused when the document
  // changed in between (its version moved on); the caller resyncs once nothing is on its way.
  const doc = new Y.Doc();
  const text = doc.getText('text');
  text.insert(0, 'ABC\n');
  const editor = new MemoryEditor('ABC\n', '\n');
  const queued: DocumentEdit[][] = [];
  const lagging = { applyEdits: (edits: readonly DocumentEdit[]) => void queued.push([...edits]) };
  const binding = new TextBinding(text, lagging, '\n');
  editor.listener = (changes) => binding.documentChanged(changes);
  text.insert(0, 'bo'); // remote: handed to the editor, not applied yet
  assert.equal(queued.length, 1);
  editor.edit(3, 0, 'x'); // the user typed after "ABC", in a document without "bo"
  assert.equal(text.toString(), 'boABCx\n', 'the keystroke is after C, not two characters early');
  // The editor refuses the stale batch; the document is repaired from the shared text.
  queued.length = 0;
  binding.resync(editor.text);
  for (const batch of queued.splice(0)) editor.applyEdits(batch);
  assert.equal(editor.text, 'boABCx\n');
  assert.equal(text.toString(), 'boABCx\n', "the repair's report was recognised, not shared again");
});

test('a batch coming back after an earlier one was refused drops the refused one too', () => {
  const doc = new Y.Doc();
  const text = doc.getText('text');
  text.insert(0, 'one\ntwo\n');
  const editor = new MemoryEditor('one\ntwo\n', '\n');
  const queued: DocumentEdit[][] = [];
  const binding = new TextBinding(text, { applyEdits: (edits) => void queued.push([...edits]) }, '\n');
  editor.listener = (changes) => binding.documentChanged(changes);
  text.insert(0, 'A');
  text.insert(5, 'B');
  const [, second] = queued.splice(0);
  // The first batch is refused; the second is applied (where the editor sees fit) and reported.
  editor.applyEdits(second!);
  assert.equal(text.toString(), 'Aone\nBtwo\n', 'no report of ours entered the shared text a second time');
  binding.resync(editor.text);
  for (const batch of queued.splice(0)) editor.applyEdits(batch);
  assert.equal(editor.text, 'Aone\nBtwo\n');
  assert.equal(text.toString(), 'Aone\nBtwo\n');
});

test('a refused batch is dead: awaited no more, keystrokes still move over it, resync makes up for it', () => {
  const doc = new Y.Doc();
  const text = doc.getText('text');
  text.insert(0, 'abc\n');
  const editor = new MemoryEditor('abc\n', '\n');
  const handed: DocumentEdit[][] = [];
  const binding = new TextBinding(text, { applyEdits: (edits) => void handed.push(edits as DocumentEdit[]) }, '\n');
  editor.listener = (changes) => binding.documentChanged(changes);
  text.insert(0, 'XY');
  assert.equal(binding.awaitingEcho, true);
  assert.equal(binding.stale, false);
  binding.refused(handed[0]!);
  assert.equal(binding.awaitingEcho, false);
  assert.equal(binding.stale, true);
  editor.edit(3, 0, '!'); // after "abc" in a document that never got "XY"
  assert.equal(text.toString(), 'XYabc!\n');
  binding.resync(editor.text);
  assert.equal(binding.stale, false);
  editor.applyEdits(handed[1]!);
  assert.equal(editor.text, 'XYabc!\n');
  assert.equal(text.toString(), 'XYabc!\n');
});

test("a reader's binding takes remote changes and refuses its own, which resync undoes", () => {
  const doc = new Y.Doc();
  doc.getText('text').insert(0, 'shared\ntext\n');
  const editor = new MemoryEditor('shared\r\ntext\r\n', '\r\n');
  const binding = new TextBinding(doc.getText('text'), editor, '\r\n', true);
  const verdicts: string[] = [];
  editor.listener = (changes) => verdicts.push(binding.documentChanged(changes));
  editor.edit(0, 0, 'mine ');
  assert.deepEqual(verdicts, ['refused']);
  assert.equal(doc.getText('text').toString(), 'shared\ntext\n', "the reader's typing never enters the shared text");
  binding.resync(editor.text);
  assert.equal(editor.text, 'shared\r\ntext\r\n');
  doc.getText('text').insert(7, 'more ');
  assert.equal(editor.text, 'shared\r\nmore text\r\n');
  assert.deepEqual(verdicts, ['refused', 'echo', 'echo']);
});

test('mapOffset keeps a cursor on its character through remote edits', () => {
  // "hello world", cursor before "w" (6).
  const insertBefore = [{ offset: 0, deleteCount: 0, insertText: '>> ' }];
  assert.equal(mapOffset(6, insertBefore), 9);
  const insertAfter = [{ offset: 8, deleteCount: 0, insertText: '!!' }];
  assert.equal(mapOffset(6, insertAfter), 6);
  const atCursor = [{ offset: 6, deleteCount: 0, insertText: 'new ' }];
  assert.equal(mapOffset(6, atCursor, 'after'), 10);
  assert.equal(mapOffset(6, atCursor, 'before'), 6);
  const deletedAround = [{ offset: 4, deleteCount: 4, insertText: 'X' }];
  assert.equal(mapOffset(6, deletedAround, 'after'), 5);
  assert.equal(mapOffset(6, deletedAround, 'before'), 4);
  assert.equal(mapOffset(8, deletedAround), 5, 'at the end of a replaced range: after the replacement');
  assert.equal(mapOffset(4, deletedAround), 4, 'at its start: before it');
  const batch = [
    { offset: 9, deleteCount: 1, insertText: '' },
    { offset: 2, deleteCount: 1, insertText: 'LL' },
  ];
  assert.equal(mapOffset(6, batch), 7);
  assert.equal(mapOffset(11, batch), 11);
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
