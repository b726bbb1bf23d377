import * as fc from 'fast-check';
import { parseChat } from '../../../src/node/agent/chat';
import { encodeSpaceNote, isFolderName, parseSpaceNote } from '../../../src/node/agent/space-note';
import { MailKind } from '../../../src/node/net/payload-kind';
import { violation, type FuzzTarget } from '../fuzz-target';
import { hexArb } from '../hex-arbitrary';
import { editedJson } from '../json-mutate';
import { fuzzBytes } from '../mutate';

const utf8 = new TextEncoder();
const withKind = (kind: number, text: string): Uint8Array => {
  const body = utf8.encode(text);
  const out = new Uint8Array(1 + body.length);
  out[0] = kind;
  out.set(body, 1);
  return out;
};

const chat = fc.record({
  conversation: hexArb(16),
  from: hexArb(16),
  fromName: fc.string({ maxLength: 20 }),
  text: fc.string({ maxLength: 60 }),
  sent: fc.nat(),
  id: hexArb(16),
});
const note = fc.record({ space: hexArb(16), name: fc.constantFrom('Photos', 'Work 2024', 'Ünïcode', 'a.b') });

const validPayload = fc.oneof(
  chat.map((c) => withKind(MailKind.Chat, JSON.stringify(c))),
  note.map(encodeSpaceNote),
);

type Input = Uint8Array;

export const mailPayloads: FuzzTarget<Input> = {
  name: 'mail-payloads',
  covers: 'src/node/agent/chat.ts parseChat and space-note.ts parseSpaceNote (opened mailbox items of those kinds)',
  allowed: 'none: both return undefined for anything malformed',
  input: fc.oneof(
    { weight: 3, arbitrary: fuzzBytes(validPayload) },
    { weight: 1, arbitrary: editedJson(chat).map((t) => withKind(MailKind.Chat, t)) },
    { weight: 1, arbitrary: editedJson(note).map((t) => withKind(MailKind.SpaceNote, t)) },
  ),
  size: (bytes) => bytes.length,
  isAllowed: () => false,
  run(bytes) {
    const c = parseChat(bytes);
    if (c !== undefined) {
      const strings = [c.conversation, c.from, c.fromName, c.text, c.id];
      if (!strings.every((s) => typeof s === 'string')) violation('parseChat let a field of the wrong type through');
      // The chat view shows it with toISOString(), which throws for a time no Date can hold.
      if (Number.isNaN(new Date(c.sent).getTime())) violation(`parseChat let through a time no Date can show: ${c.sent}`);
    }
    const n = parseSpaceNote(bytes);
    if (n !== undefined) {
      if (!/^[0-9a-f]{32}$/.test(n.space) || !isFolderName(n.name)) violation('parseSpaceNote let a bad space id or folder name through');
      const again = parseSpaceNote(encodeSpaceNote(n));
      if (again?.space !== n.space || again.name !== n.name) violation('a space note does not parse back to itself');
    }
  },
};
