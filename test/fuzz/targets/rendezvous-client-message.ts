import { isDeepStrictEqual } from 'node:util';
import * as fc from 'fast-check';
import { parseClientMessage, RendezvousError } from '../../../src/sync/protocol/rendezvous';
import { violation, type FuzzTarget } from '../fuzz-target';
import { hexArb } from '../hex-arbitrary';
import { editedJson } from '../json-mutate';
import { fuzzBytes } from '../mutate';

const hex = (bytes: number): fc.Arbitrary<string> => hexArb(bytes);
const anId = hex(16);
const device = fc.record(
  {
    id: anId,
    signPublic: hex(32),
    agreePublic: hex(32),
    endorsement: fc.record({ key: hex(32), by: anId, keySig: hex(64), sig: hex(64) }),
  },
  { requiredKeys: ['id', 'signPublic', 'agreePublic'] },
);
const doc = fc.record({
  id: anId,
  kind: fc.constantFrom('pair', 'group', 'publish'),
  version: fc.integer({ min: 1, max: 1000 }),
  members: fc
    .uniqueArray(anId, { minLength: 1, maxLength: 4 })
    .chain((users) =>
      fc
        .tuple(...users.map(() => fc.constantFrom('editor', 'reader')))
        .map((roles) => users.map((user, i) => ({ user, role: i === 0 ? 'owner' : roles[i] }))),
    ),
  author: anId,
  signature: hex(64),
});
const requestId = fc.nat();

/** Every message a client may send, valid. */
const validMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ t: fc.constant('hello'), v: fc.nat({ max: 3 }), device }),
  fc.record(
    {
      t: fc.constant('auth'),
      signature: hex(64),
      mode: fc.constantFrom('session', 'command'),
      join: fc.oneof(fc.record({ name: fc.constantFrom('Ann', 'bob smith', 'Zoë') }), fc.record({ link: hex(16) })),
    },
    { requiredKeys: ['t', 'signature', 'mode'] },
  ),
  fc.record({ t: fc.constantFrom('createInvite', 'createLink', 'fetchMailbox', 'state'), id: requestId }),
  fc.record({ t: fc.constant('acceptInvite'), id: requestId, token: hex(16), fingerprint: fc.string({ maxLength: 64 }) }),
  fc.record({ t: fc.constant('removeContact'), id: requestId, user: anId }),
  fc.record({ t: fc.constant('presence'), id: requestId, status: fc.constantFrom('online', 'away') }),
  fc.record({ t: fc.constant('putSpace'), id: requestId, doc }),
  fc.record({ t: fc.constant('respondSpace'), id: requestId, space: anId, accept: fc.boolean() }),
  fc.record({ t: fc.constant('leaveSpace'), id: requestId, space: anId }),
  fc.record({ t: fc.constant('vector'), id: requestId, space: anId, hash: hex(32) }),
  fc.record({ t: fc.constant('ack'), id: requestId, items: fc.array(anId, { maxLength: 3 }) }),
);

const validText = validMessage.map((m) => JSON.stringify(m));
const utf8 = new TextEncoder();
const text = new TextDecoder();

export const rendezvousClientMessage: FuzzTarget<string> = {
  name: 'rendezvous-client',
  covers: 'src/sync/protocol/rendezvous.ts parseClientMessage (every text frame the server reads), with parseDeviceInfo and parseSpaceDoc',
  allowed: "RendezvousError with code 'malformed'",
  input: fc.oneof(
    { weight: 2, arbitrary: validText },
    { weight: 5, arbitrary: editedJson(validMessage) },
    { weight: 2, arbitrary: fuzzBytes(validText.map((t) => utf8.encode(t))).map((b) => text.decode(b)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  ),
  size: (t) => t.length * 3,
  isAllowed: (err) => err instanceof RendezvousError && err.code === 'malformed',
  run(input) {
    const message = parseClientMessage(input);
    // What the server keeps is the parsed value: it holds only checked fields, so it parses to itself.
    const again = parseClientMessage(JSON.stringify(message));
    if (!isDeepStrictEqual(again, message)) violation('a parsed message does not parse back to itself');
  },
};
