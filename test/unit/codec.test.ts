import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/sync/bytes';
import type { FileRecord } from '../../src/sync/file-record';
import { decodeMessage, encodeMessage, frameLength } from '../../src/sync/protocol/codec';
import type { Message } from '../../src/sync/protocol/messages';
import { DecodeError } from '../../src/sync/protocol/wire';
import { Prng } from '../sim/prng';

const record: FileRecord = {
  path: 'a.txt',
  type: 'file',
  deleted: false,
  size: 3,
  mtime: -1,
  executable: true,
  hash: new Uint8Array(32).fill(2),
  blocks: [{ hash: new Uint8Array(32).fill(3), size: 3 }],
  target: '',
  version: [{ id: 'ab', counter: 1 }],
  modifiedBy: 'al',
  ancestor: new Uint8Array(0),
  sequence: 2,
};

const golden: Array<[Message, string]> = [
  [{ type: 'summary', summary: new Uint8Array(32).fill(0xab) }, '00000023010520' + 'ab'.repeat(32)],
  [{ type: 'blockRequest', id: 7, hash: new Uint8Array(32).fill(1), size: 300 }, '00000025010307' + '01'.repeat(32) + 'ac02'],
  [
    { type: 'index', indexId: 'ab', fromSequence: 0, toSequence: 2, maxSequence: 2, records: [record] },
    '0000006101020261620002020105612e7478740002030120' + '02'.repeat(32) + '01' + '03'.repeat(32) + '0300010261620102616c0002',
  ],
];

test('golden bytes', () => {
  for (const [message, hex] of golden) {
    assert.equal(toHex(encodeMessage(message)), hex);
    assert.deepEqual(decodeMessage(fromHex(hex)), message);
  }
});

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    indexId: fc.string({ maxLength: 20 }),
    maxSequence: fc.nat(),
    knownIndexId: fc.string({ maxLength: 20 }),
    knownSequence: fc.nat(),
    summary: hash,
    reply: fc.boolean(),
  }),
  fc.record({ type: fc.constant('blockRequest' as const), id: fc.nat(), hash, size: fc.integer({ min: 1, max: 1 << 20 }) }),
  fc.record({ type: fc.constant('blockResponse' as const), id: fc.nat(), hash, status: fc.constant('ok' as const), data: fc.uint8Array({ maxLength: 100 }) }),
  fc.record({ type: fc.constant('summary' as const), summary: hash }),
);

test('decode(encode(m)) is m, and encoding is deterministic', () => {
  fc.assert(
    fc.property(arbMessage, (m) => {
      const bytes = encodeMessage(m);
      assert.deepEqual(decodeMessage(bytes), { ...m });
      assert.deepEqual(encodeMessage(decodeMessage(bytes)), bytes);
    }),
  );
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DecodeError, `not a DecodeError: ${String(err)}`);
    return err.code;
  }
  return 'decoded';
}

test('each kind of malformed frame has its own error', () => {
  const ok = encodeMessage(golden[2]![0]);
  const frame = (body: string): Uint8Array => {
    const b = fromHex(body);
    return fromHex((b.length >>> 0).toString(16).padStart(8, '0') + body);
  };
  assert.equal(code(() => decodeMessage(ok.subarray(0, ok.length - 1))), 'lengthMismatch');
  assert.equal(code(() => decodeMessage(frame(toHex(ok.subarray(4, ok.length - 1))))), 'truncated');
  assert.equal(code(() => decodeMessage(frame(toHex(ok.subarray(4)) + '00'))), 'trailingBytes');
  assert.equal(code(() => decodeMessage(frame('0205'))), 'unknownVersion');
  assert.equal(code(() => decodeMessage(frame('0109'))), 'unknownType');
  assert.equal(code(() => frameLength(fromHex('7fffffff'))), 'frameTooLarge');
  assert.equal(code(() => decodeMessage(frame('010502ffff'))), 'badValue');
  assert.equal(code(() => decodeMessage(frame('0103ffffffffffffffff01'))), 'varintTooLong');
  assert.equal(code(() => decodeMessage(frame('01038000'))), 'badValue'); // not shortest form
  const badUtf8 = toHex(ok.subarray(4)).replace('05612e747874', '05ff2e747874');
  assert.equal(code(() => decodeMessage(frame(badUtf8))), 'badUtf8');
  const badFlags = toHex(ok.subarray(4)).replace('612e7478740002', '612e7478740006');
  assert.equal(code(() => decodeMessage(frame(badFlags))), 'badValue');
  const unsorted = toHex(
    encodeMessage({ ...golden[2]![0], records: [{ ...record, version: [{ id: 'ab', counter: 1 }, { id: 'aa', counter: 1 }] }] } as Message),
  );
  assert.equal(code(() => decodeMessage(fromHex(unsorted))), 'badValue');
  const wrongSize = encodeMessage({ ...golden[2]![0], records: [{ ...record, size: 4 }] } as Message);
  assert.equal(code(() => decodeMessage(wrongSize)), 'badValue');
  const range = encodeMessage({ type: 'index', indexId: 'a', fromSequence: 0, toSequence: 0, maxSequence: 0, records: [] });
  range[8] = 5; // fromSequence 5 > toSequence 0
  assert.equal(code(() => decodeMessage(range)), 'badValue');
});

test('fuzz: random bytes and mutated frames decode or raise DecodeError, nothing else', () => {
  const seed = 20261122;
  const rng = new Prng(seed);
  try {
    for (let i = 0; i < 2000; i++) code(() => decodeMessage(rng.bytes(rng.int(80))));
    for (let i = 0; i < 2000; i++) {
      const m = golden[rng.int(golden.length)]![0];
      const f = encodeMessage(m);
      f[rng.int(f.length)] = rng.int(256);
      code(() => decodeMessage(f));
    }
  } catch (err) {
    throw new Error(`fuzz seed ${seed}: ${(err as Error).message}`);
  }
});
