import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareStrings, fromHex, toHex } from '../../../../src/sync/util/bytes';
import type { BlockRef, EntryType, FileRecord } from '../../../../src/sync/model/file-record';
import {
  DEFAULT_LIMITS,
  PROTOCOL_VERSION,
  decodeMessage,
  decodeRecord,
  encodeMessage,
  encodeRecord,
  frameLength,
} from '../../../../src/sync/protocol/codec';
import type { IndexBatch, Message } from '../../../../src/sync/protocol/messages';
import { ByteReader, ByteWriter, DecodeError, type DecodeErrorCode } from '../../../../src/sync/protocol/wire';
import { writeVector, type VersionVector } from '../../../../src/sync/model/version-vector';

// ---- helpers -------------------------------------------------------------------------------

/** Hex from annotated parts; spaces are for the reader. */
function hex(...parts: string[]): string {
  return parts.join('').replace(/ /g, '');
}

const fill = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);
const h32 = (byte: number): string => byte.toString(16).padStart(2, '0').repeat(32);

/** A whole frame around a body given in hex, with the length the header must carry. */
function frameOf(...body: string[]): Uint8Array {
  const b = hex(...body);
  return fromHex((b.length / 2).toString(16).padStart(8, '0') + b);
}

function outcome(run: () => unknown): 'ok' | DecodeErrorCode {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof DecodeError) return err.code;
    throw err;
  }
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof RangeError, `expected a RangeError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the encoder to refuse');
}

// ---- golden bytes --------------------------------------------------------------------------
// Derived once from the layout in docs/PROTOCOL.md by a separate reference encoder, then frozen.
// A change here is a protocol change: bump PROTOCOL_VERSION and the document with it.

const fileRecord: FileRecord = {
  path: 'docs/a.txt',
  type: 'file',
  deleted: false,
  size: 200,
  mtime: 1_700_000_000_123,
  executable: true,
  hash: fill(0xaa),
  blocks: [
    { hash: fill(0xb1), size: 72 },
    { hash: fill(0xb2), size: 128 },
  ],
  target: '',
  version: [
    { id: 'r1', counter: 1_700_000_000 },
    { id: 'r2', counter: 3 },
  ],
  modifiedBy: 'ann',
  ancestor: fill(0xcc),
  sequence: 5,
};
const fileRecordHex = hex(
  '0a 646f63732f612e747874', // path "docs/a.txt"
  '00', // type: file
  '02', // flags: executable
  'c801', // size 200
  'f6a1abfef962', // mtime 1700000000123, zigzag 3400000000246
  '20',
  h32(0xaa), // content hash
  '02', // two blocks
  h32(0xb1),
  '48', // 72 bytes
  h32(0xb2),
  '8001', // 128 bytes
  '00', // target ""
  '02 027231 80e2cfaa06 027232 03', // version {r1: 1700000000, r2: 3}
  '03 616e6e', // modifiedBy "ann"
  '20',
  h32(0xcc), // ancestor
  '05', // sequence
);

const tombstone: FileRecord = {
  path: 'é.txt',
  type: 'file',
  deleted: true,
  size: 0,
  mtime: 0,
  executable: false,
  hash: new Uint8Array(0),
  blocks: [],
  target: '',
  version: [{ id: 'r2', counter: 4 }],
  modifiedBy: 'bob',
  ancestor: new Uint8Array(0),
  sequence: 6,
};
const tombstoneHex = hex(
  '06 c3a92e747874', // path "é.txt": 6 UTF-8 bytes for 5 characters
  '00 01', // file, deleted
  '00 00', // size 0, mtime 0
  '00 00 00', // no hash, no blocks, no target
  '01 027232 04', // version {r2: 4}
  '03 626f62', // modifiedBy "bob"
  '00 06', // no ancestor, sequence 6
);

const symlink: FileRecord = {
  path: 'link',
  type: 'symlink',
  deleted: false,
  size: 0,
  mtime: -1,
  executable: false,
  hash: fill(0xdd),
  blocks: [],
  target: 'a.txt',
  version: [{ id: 'r1', counter: 2 }],
  modifiedBy: 'ann',
  ancestor: new Uint8Array(0),
  sequence: 7,
};
const symlinkHex = hex(
  '04 6c696e6b', // path "link"
  '02 00', // symlink, no flags
  '00 01', // size 0, mtime -1 (zigzag 1)
  '20',
  h32(0xdd), // hash over the target
  '00', // no blocks
  '05 612e747874', // target "a.txt"
  '01 027231 02', // version {r1: 2}
  '03 616e6e 00 07', // modifiedBy "ann", no ancestor, sequence 7
);

const directory: FileRecord = {
  ...tombstone,
  path: 'docs',
  type: 'directory',
  deleted: false,
  mtime: 1,
  version: [{ id: 'r1', counter: 1 }],
  modifiedBy: 'ann',
  sequence: 8,
};
const directoryHex = hex('04 646f6373', '01 00', '00 02', '00 00 00', '01 027231 01', '03 616e6e', '00 08');

const golden: ReadonlyArray<readonly [string, Message, string]> = [
  [
    'hello, a reply with a summary',
    {
      type: 'hello',
      indexId: 'r1',
      maxSequence: 300,
      knownIndexId: '',
      knownSequence: 0,
      summary: fill(0x11),
      reply: true,
      wholeBlockLists: false,
    },
    hex('0000002c', '02 01', '02 7231', 'ac02', '00', '00', '20', h32(0x11), '01', '00'),
  ],
  [
    'hello, opening, without a summary',
    {
      type: 'hello',
      indexId: 'b',
      maxSequence: 0,
      knownIndexId: 'r1',
      knownSequence: 127,
      summary: new Uint8Array(0),
      reply: false,
      wholeBlockLists: false,
    },
    hex('0000000c', '02 01', '01 62', '00', '02 7231', '7f', '00', '00', '00'),
  ],
  [
    'hello asking for whole block lists',
    {
      type: 'hello',
      indexId: 'b',
      maxSequence: 0,
      knownIndexId: 'r1',
      knownSequence: 127,
      summary: new Uint8Array(0),
      reply: true,
      wholeBlockLists: true,
    },
    hex('0000000c', '02 01', '01 62', '00', '02 7231', '7f', '00', '01', '01'),
  ],
  [
    'index batch: file with blocks, tombstone, symlink, directory',
    {
      type: 'index',
      indexId: 'r1',
      fromSequence: 4,
      toSequence: 8,
      maxSequence: 9,
      records: [fileRecord, tombstone, symlink, directory],
    },
    hex('00000127', '02 02', '02 7231', '04 08 09', '04', '00', fileRecordHex, '00', tombstoneHex, '00', symlinkHex, '00', directoryHex),
  ],
  [
    'index batch: a block list as a delta',
    {
      type: 'index',
      indexId: 'r1',
      fromSequence: 4,
      toSequence: 8,
      maxSequence: 9,
      records: [{ ...fileRecord, size: 300, blocks: [] }],
      deltas: new Map([[0, { base: fill(0xee), prefix: 70, suffix: 2, middle: [{ hash: fill(0xc1), size: 300 }] }]]),
    },
    hex(
      '000000b9',
      '02 02',
      '02 7231',
      '04 08 09',
      '01', // one record
      '01', // its block list as a delta
      '0a 646f63732f612e747874 00 02', // path, file, executable
      'ac02 f6a1abfef962', // size 300, mtime
      '20',
      h32(0xaa), // content hash
      h32(0xee), // the base: the content hash of the list the receiver holds
      '46 02', // the base's first 70 blocks and its last 2
      '01',
      h32(0xc1),
      'ac02', // between them, one block of 300 bytes
      '00 02 027231 80e2cfaa06 027232 03 03 616e6e', // target, version, modifiedBy
      '20',
      h32(0xcc), // ancestor
      '05', // sequence
    ),
  ],
  ['block request', { type: 'blockRequest', id: 7, hash: fill(0x01), size: 65536 }, hex('00000026', '02 03', '07', h32(0x01), '808004')],
  [
    'block response, ok',
    { type: 'blockResponse', id: 300, hash: fill(0x02), status: 'ok', data: new Uint8Array([0x68, 0x69]) },
    hex('00000028', '02 04', 'ac02', h32(0x02), '00', '02 6869'),
  ],
  [
    'block response, notFound, largest id',
    { type: 'blockResponse', id: 0xffffffff, hash: fill(0x03), status: 'notFound', data: new Uint8Array(0) },
    hex('00000029', '02 04', 'ffffffff0f', h32(0x03), '01', '00'),
  ],
  ['summary notice', { type: 'summary', summary: fill(0xab) }, hex('00000023', '02 05', '20', h32(0xab))],
];

for (const [name, message, bytes] of golden) {
  test(`golden bytes: ${name}`, () => {
    assert.equal(toHex(encodeMessage(message)), bytes);
    assert.deepEqual(decodeMessage(fromHex(bytes)), message);
  });
}

test('golden bytes: records alone, as the state journal stores them', () => {
  for (const [record, bytes] of [
    [fileRecord, fileRecordHex],
    [tombstone, tombstoneHex],
    [symlink, symlinkHex],
    [directory, directoryHex],
  ] as const) {
    const w = new ByteWriter();
    encodeRecord(w, record);
    assert.equal(toHex(w.finish()), bytes);
    const r = new ByteReader(fromHex(bytes));
    assert.deepEqual(decodeRecord(r), record);
    r.end();
  }
});

test('golden bytes: the worked vector example of docs/PROTOCOL.md', () => {
  const w = new ByteWriter();
  writeVector(w, [
    { id: 'a', counter: 1 },
    { id: 'b', counter: 300 },
  ]);
  assert.equal(toHex(w.finish()), '020161010162ac02');
});

test('the frame starts with the length, then the protocol version', () => {
  const frame = encodeMessage(golden[0]![1]);
  assert.equal(frameLength(frame), frame.length - 4);
  assert.equal(frame[4], PROTOCOL_VERSION);
});

test('decoded byte arrays are copies, not views into the frame', () => {
  const frame = fromHex(golden[3]![2]);
  const batch = decodeMessage(frame) as IndexBatch;
  const response = decodeMessage(fromHex(golden[6]![2]));
  frame.fill(0);
  assert.deepEqual(batch, golden[3]![1]);
  const record = batch.records[0]!;
  for (const a of [record.hash, record.ancestor, record.blocks[0]!.hash]) assert.notEqual(a.buffer, frame.buffer);
  assert.deepEqual(response, golden[6]![1]);
});

// ---- round trips ---------------------------------------------------------------------------

/** fast-check 4 builds records with a null prototype, which deepStrictEqual tells apart from the decoder's literals. */
function plain<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength });
const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const optionalHash = fc.oneof(fc.constant(new Uint8Array(0)), hash);
const sequence = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const arbVector: fc.Arbitrary<VersionVector> = fc
  .uniqueArray(
    plain({
      id: fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }),
      counter: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    }),
    {
      maxLength: 4,
      selector: (e) => e.id,
    },
  )
  .map((entries) => [...entries].sort((a, b) => compareStrings(a.id, b.id)));

const arbBlock: fc.Arbitrary<BlockRef> = plain({ hash, size: fc.integer({ min: 1, max: DEFAULT_LIMITS.maxBlockSize }) });

const arbRecord: fc.Arbitrary<FileRecord> = fc
  .record({
    path: text(40),
    type: fc.constantFrom<EntryType>('file', 'directory', 'symlink'),
    deleted: fc.boolean(),
    executable: fc.boolean(),
    otherSize: sequence,
    mtime: fc.integer({ min: -(2 ** 52), max: 2 ** 52 - 1 }),
    hash: optionalHash,
    blockList: fc.array(arbBlock, { maxLength: 4 }),
    target: text(20),
    version: arbVector,
    modifiedBy: text(12),
    ancestor: optionalHash,
    sequence,
  })
  .map(({ otherSize, blockList, ...rest }): FileRecord => {
    // Only live files carry blocks, and theirs must add up to the size.
    const live = rest.type === 'file' && !rest.deleted;
    const blocks = live ? blockList : [];
    return { ...rest, blocks, size: live ? blocks.reduce((n, b) => n + b.size, 0) : otherSize };
  });

const arbIndex: fc.Arbitrary<IndexBatch> = fc
  .record({
    indexId: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
    from: fc.integer({ min: 0, max: 2 ** 40 }),
    records: fc.array(fc.tuple(arbRecord, fc.integer({ min: 1, max: 1000 })), { maxLength: 4 }),
    toSlack: fc.nat(10),
    maxSlack: fc.nat(10),
  })
  .map(({ indexId, from, records, toSlack, maxSlack }): IndexBatch => {
    let at = from;
    const placed = records.map(([r, step]) => ({ ...r, sequence: (at += step) }));
    return { type: 'index', indexId, fromSequence: from, toSequence: at + toSlack, maxSequence: at + toSlack + maxSlack, records: placed };
  });

const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  plain({
    type: fc.constant('hello' as const),
    indexId: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
    maxSequence: sequence,
    knownIndexId: text(20),
    knownSequence: sequence,
    summary: optionalHash,
    reply: fc.boolean(),
    wholeBlockLists: fc.boolean(),
  }),
  arbIndex,
  plain({ type: fc.constant('blockRequest' as const), id: fc.nat(), hash, size: fc.integer({ min: 1, max: DEFAULT_LIMITS.maxBlockSize }) }),
  fc.oneof(
    plain({
      type: fc.constant('blockResponse' as const),
      id: fc.nat(),
      hash,
      status: fc.constant('ok' as const),
      data: fc.uint8Array({ maxLength: 100 }),
    }),
    plain({
      type: fc.constant('blockResponse' as const),
      id: fc.nat(),
      hash,
      status: fc.constant('notFound' as const),
      data: fc.constant(new Uint8Array(0)),
    }),
  ),
  plain({ type: fc.constant('summary' as const), summary: hash }),
);

test('decode(encode(m)) is m, and encoding is deterministic', () => {
  fc.assert(
    fc.property(arbMessage, (m) => {
      const bytes = encodeMessage(m);
      assert.deepEqual(encodeMessage(m), bytes);
      const back = decodeMessage(bytes);
      assert.deepEqual(back, m);
      assert.deepEqual(encodeMessage(back), bytes);
    }),
    { numRuns: 500 },
  );
});

test('decodeRecord(encodeRecord(r)) is r', () => {
  fc.assert(
    fc.property(arbRecord, (record) => {
      const w = new ByteWriter();
      encodeRecord(w, record);
      const r = new ByteReader(w.finish());
      assert.deepEqual(decodeRecord(r), record);
      r.end();
    }),
    { numRuns: 300 },
  );
});

// ---- one malformed input at a time ---------------------------------------------------------

/** A valid record in hex parts; a case replaces one field. */
const baseRecord = {
  path: '01 61',
  type: '00',
  flags: '00',
  size: '03',
  mtime: '00',
  hash: '20' + h32(0xaa),
  blocks: '01' + h32(0xb1) + '03',
  target: '00',
  version: '01 027231 01',
  modifiedBy: '00',
  ancestor: '00',
  sequence: '01',
};

function recordHex(patch: Partial<typeof baseRecord> = {}): string {
  return hex(...Object.values({ ...baseRecord, ...patch }));
}

/** An index frame over (0, 9] holding one record. */
function indexFrame(patch: Partial<typeof baseRecord> = {}): Uint8Array {
  return frameOf('02 02', '02 7231', '00 09 09', '01', '00', recordHex(patch));
}

/** An index frame over (0, 9] holding one record whose block list is a delta: `blocks` is the delta's bytes. */
function deltaFrame(patch: Partial<typeof baseRecord> = {}): Uint8Array {
  return frameOf('02 02', '02 7231', '00 09 09', '01', '01', recordHex({ blocks: h32(0xee) + '05 00 01' + h32(0xb1) + '03', ...patch }));
}

const helloBody = hex('02 01', '02 7231', '05', '00', '00', '00', '00', '00');

const decodeCases: ReadonlyArray<readonly [string, () => unknown, 'ok' | DecodeErrorCode]> = [
  ['the base record is valid (control)', () => decodeMessage(indexFrame()), 'ok'],
  ['truncated: the body ends inside the payload', () => decodeMessage(frameOf(helloBody.slice(0, -2))), 'truncated'],
  ['truncated: fewer than 4 header bytes', () => decodeMessage(fromHex('000000')), 'truncated'],
  ['truncated: a body too short for version and type', () => decodeMessage(frameOf('01')), 'truncated'],
  ['truncated: a block count larger than the bytes left', () => decodeMessage(indexFrame({ blocks: 'ff7f' })), 'truncated'],
  ['trailing bytes after the message', () => decodeMessage(frameOf(helloBody, '00')), 'trailingBytes'],
  ['length mismatch: frame shorter than its header says', () => decodeMessage(fromHex('0000000c' + helloBody)), 'lengthMismatch'],
  ['length mismatch: frame longer than its header says', () => decodeMessage(fromHex('0000000a' + helloBody)), 'lengthMismatch'],
  ['unknown version 1, the one before', () => decodeMessage(frameOf('01 05', '20', h32(0))), 'unknownVersion'],
  ['unknown version 3', () => decodeMessage(frameOf('03 05', '20', h32(0))), 'unknownVersion'],
  ['unknown version 0', () => decodeMessage(frameOf('00 05', '20', h32(0))), 'unknownVersion'],
  ['unknown type 0', () => decodeMessage(frameOf('02 00')), 'unknownType'],
  ['unknown type 6', () => decodeMessage(frameOf('02 06', '20', h32(0))), 'unknownType'],
  ['frame too large, from the header alone', () => decodeMessage(fromHex('04000001')), 'frameTooLarge'],
  ['frame too large for a lower limit', () => decodeMessage(fromHex(golden[8]![2]), { maxFrameSize: 34 }), 'frameTooLarge'],
  ['bad UTF-8: a stray continuation byte', () => decodeMessage(indexFrame({ path: '01 ff' })), 'badUtf8'],
  ['bad UTF-8: an overlong "/"', () => decodeMessage(indexFrame({ path: '02 c0af' })), 'badUtf8'],
  ['bad UTF-8: an encoded surrogate', () => decodeMessage(indexFrame({ target: '03 eda080' })), 'badUtf8'],
  ['non-canonical vector: unsorted ids', () => decodeMessage(indexFrame({ version: '02 027232 01 027231 01' })), 'badValue'],
  ['non-canonical vector: duplicate ids', () => decodeMessage(indexFrame({ version: '02 027231 01 027231 02' })), 'badValue'],
  ['non-canonical vector: zero counter', () => decodeMessage(indexFrame({ version: '01 027231 00' })), 'badValue'],
  ['non-canonical vector: empty id', () => decodeMessage(indexFrame({ version: '01 00 01' })), 'badValue'],
  ['varint too long: nine bytes', () => decodeMessage(frameOf('02 03', 'ffffffffffffffff01', h32(1), '01')), 'varintTooLong'],
  ['varint over 2^53', () => decodeMessage(frameOf('02 03', 'ffffffffffffff7f', h32(1), '01')), 'numberTooLarge'],
  ['non-shortest varint', () => decodeMessage(frameOf('02 03', '8000', h32(1), '01')), 'badValue'],
  ['bad flags: bit 2', () => decodeMessage(indexFrame({ flags: '04' })), 'badValue'],
  ['bad flags: bit 7', () => decodeMessage(indexFrame({ flags: '80' })), 'badValue'],
  ['bad entry type 3', () => decodeMessage(indexFrame({ type: '03' })), 'badValue'],
  ['bad hash length: content hash of 31 bytes', () => decodeMessage(indexFrame({ hash: '1f' + h32(0xaa).slice(2) })), 'badValue'],
  ['bad hash length: ancestor of 33 bytes', () => decodeMessage(indexFrame({ ancestor: '21' + h32(0xaa) + 'aa' })), 'badValue'],
  ['bad hash length: empty summary notice', () => decodeMessage(frameOf('02 05', '00')), 'badValue'],
  [
    'bad hash length: hello summary of 16 bytes',
    () => decodeMessage(frameOf('02 01', '02 7231', '05', '00', '00', '10', h32(0).slice(32), '00', '00')),
    'badValue',
  ],
  ['block sizes do not add up to the size', () => decodeMessage(indexFrame({ size: '04' })), 'badValue'],
  ['a block of size 0', () => decodeMessage(indexFrame({ size: '00', blocks: '01' + h32(0xb1) + '00' })), 'badValue'],
  ['a tombstone with blocks', () => decodeMessage(indexFrame({ flags: '01' })), 'badValue'],
  ['a directory with blocks', () => decodeMessage(indexFrame({ type: '01' })), 'badValue'],
  ['batch with fromSequence > toSequence', () => decodeMessage(frameOf('02 02', '02 7231', '05 04 09', '00')), 'badValue'],
  ['batch with toSequence > maxSequence', () => decodeMessage(frameOf('02 02', '02 7231', '00 05 04', '00')), 'badValue'],
  ['record sequence outside the batch range', () => decodeMessage(indexFrame({ sequence: '0a' })), 'badValue'],
  ['record sequence at the open end of the range', () => decodeMessage(indexFrame({ sequence: '00' })), 'badValue'],
  ['hello with an empty index id', () => decodeMessage(frameOf('02 01', '00', '05', '00', '00', '00', '00', '00')), 'badValue'],
  ['hello reply flag 2', () => decodeMessage(frameOf(helloBody.slice(0, -4), '02', '00')), 'badValue'],
  ['hello whole-block-lists flag 2', () => decodeMessage(frameOf(helloBody.slice(0, -2), '02')), 'badValue'],
  ['block list form 2', () => decodeMessage(frameOf('02 02', '02 7231', '00 09 09', '01', '02', recordHex())), 'badValue'],
  ['a delta for a tombstone', () => decodeMessage(deltaFrame({ flags: '01' })), 'badValue'],
  ['a delta for a directory', () => decodeMessage(deltaFrame({ type: '01' })), 'badValue'],
  ['a delta without a content hash', () => decodeMessage(deltaFrame({ hash: '00' })), 'badValue'],
  ['a delta with a block of size 0', () => decodeMessage(deltaFrame({ blocks: h32(0xee) + '00 00 01' + h32(0xb1) + '00' })), 'badValue'],
  ['a delta truncated inside its base hash', () => decodeMessage(deltaFrame({ blocks: h32(0xee).slice(0, 20) })), 'truncated'],
  [
    'a delta over maxBlocksPerRecord',
    () => decodeMessage(deltaFrame({ blocks: h32(0xee) + '01 01 01' + h32(0xb1) + '03' }), { maxBlocksPerRecord: 2 }),
    'badValue',
  ],
  ['the base delta is valid (control)', () => decodeMessage(deltaFrame()), 'ok'],
  ['block request id over 2^32 - 1', () => decodeMessage(frameOf('02 03', '8080808010', h32(1), '01')), 'badValue'],
  ['block request size over the block limit', () => decodeMessage(frameOf('02 03', '07', h32(1), '818040')), 'badValue'],
  ['block response status 2', () => decodeMessage(frameOf('02 04', '07', h32(1), '02', '00')), 'badValue'],
  ['block response notFound with data', () => decodeMessage(frameOf('02 04', '07', h32(1), '01', '01 00')), 'badValue'],
  ['path over maxPathBytes', () => decodeMessage(indexFrame({ path: '03 616263' }), { maxPathBytes: 2 }), 'badValue'],
  ['modifiedBy over maxNameBytes', () => decodeMessage(indexFrame({ modifiedBy: '03 616263' }), { maxNameBytes: 2 }), 'badValue'],
  [
    'records over maxRecordsPerBatch',
    () =>
      decodeMessage(frameOf('02 02', '02 7231', '00 09 09', '02', '00', recordHex(), '00', recordHex({ sequence: '02' })), {
        maxRecordsPerBatch: 1,
      }),
    'badValue',
  ],
  [
    'blocks over maxBlocksPerRecord',
    () => decodeMessage(indexFrame({ size: '06', blocks: '02' + h32(1) + '03' + h32(2) + '03' }), { maxBlocksPerRecord: 1 }),
    'badValue',
  ],
];

for (const [name, run, expected] of decodeCases) {
  test(`decode: ${name}`, () => assert.equal(outcome(run), expected));
}

test('frameLength reads the header of a stream buffer and refuses large frames before the body arrives', () => {
  const frame = fromHex(golden[0]![2]);
  const stream = new Uint8Array(frame.length + 10);
  stream.set(frame);
  assert.equal(frameLength(stream), 0x2c);
  assert.equal(
    outcome(() => frameLength(fromHex('ffffffff'))),
    'frameTooLarge',
  );
  assert.equal(
    outcome(() => frameLength(fromHex('04000001'))),
    'frameTooLarge',
  );
  assert.equal(frameLength(fromHex('04000000')), DEFAULT_LIMITS.maxFrameSize);
  assert.equal(
    outcome(() => frameLength(fromHex('000000'))),
    'truncated',
  );
  assert.equal(
    outcome(() => frameLength(fromHex('00000100'), { maxFrameSize: 255 })),
    'frameTooLarge',
  );
});

test('decodeRecord reports malformed records as DecodeError too', () => {
  assert.equal(
    outcome(() => decodeRecord(new ByteReader(fromHex(recordHex({ flags: '04' }))))),
    'badValue',
  );
  assert.equal(
    outcome(() => decodeRecord(new ByteReader(fromHex(recordHex()).subarray(0, 10)))),
    'truncated',
  );
});

// ---- the encoder refuses what the decoder would ---------------------------------------------

test('encode refuses a frame over maxFrameSize', () => {
  assert.match(
    refusal(() => encodeMessage(golden[8]![1], { maxFrameSize: 34 })),
    /^frameTooLarge:/,
  );
  assert.equal(encodeMessage(golden[8]![1], { maxFrameSize: 35 }).length, 39);
});

test('encode refuses messages the decoder would refuse', () => {
  const batch = golden[3]![1] as IndexBatch;
  const withRecord = (patch: Partial<FileRecord>): Message => ({ ...batch, records: [{ ...fileRecord, ...patch }] });
  const cases: ReadonlyArray<readonly [string, Message]> = [
    ['blocks not adding up', withRecord({ size: 201 })],
    ['tombstone with blocks', withRecord({ deleted: true })],
    ['short content hash', withRecord({ hash: new Uint8Array(31) })],
    [
      'unsorted vector',
      withRecord({
        version: [
          { id: 'b', counter: 1 },
          { id: 'a', counter: 1 },
        ],
      }),
    ],
    ['zero counter', withRecord({ version: [{ id: 'a', counter: 0 }] })],
    ['lone surrogate in a path', withRecord({ path: 'a\ud800' })],
    ['mtime beyond zigzag range', withRecord({ mtime: 2 ** 52 })],
    ['record outside the range', withRecord({ sequence: 9 })],
    ['range reversed', { ...batch, fromSequence: 9 }],
    ['empty index id', { ...batch, indexId: '' }],
    ['request id over u32', { type: 'blockRequest', id: 2 ** 32, hash: fill(1), size: 1 }],
    ['request size 0', { type: 'blockRequest', id: 1, hash: fill(1), size: 0 }],
    ['notFound with data', { type: 'blockResponse', id: 1, hash: fill(1), status: 'notFound', data: new Uint8Array(1) }],
    [
      'block over maxBlockSize',
      { type: 'blockResponse', id: 1, hash: fill(1), status: 'ok', data: new Uint8Array(DEFAULT_LIMITS.maxBlockSize + 1) },
    ],
    ['summary notice without a summary', { type: 'summary', summary: new Uint8Array(0) }],
  ];
  for (const [name, m] of cases)
    assert.match(
      refusal(() => encodeMessage(m)),
      /cannot encode/,
      name,
    );
});

test('encodeRecord writes nothing for a record it refuses', () => {
  const w = new ByteWriter().u8(7);
  refusal(() => encodeRecord(w, { ...fileRecord, modifiedBy: 'x'.repeat(300) }));
  assert.equal(w.length, 1);
});

test('a leading U+FEFF survives the round trip', () => {
  const m: Message = {
    type: 'hello',
    indexId: '\ufeffr1',
    maxSequence: 1,
    knownIndexId: '',
    knownSequence: 0,
    summary: new Uint8Array(0),
    reply: false,
    wholeBlockLists: false,
  };
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
});

// ---- fuzz ----------------------------------------------------------------------------------
// fast-check prints the seed and path of any failure; rerun with them to replay it exactly.

const FUZZ_SEED = 20261122;

/** Decodes or throws DecodeError; a frame that decodes must be the one encoding of its message. */
function decodesCleanly(frame: Uint8Array): void {
  let m: Message;
  try {
    m = decodeMessage(frame);
  } catch (err) {
    if (err instanceof DecodeError) return;
    throw err;
  }
  assert.equal(toHex(encodeMessage(m)), toHex(frame));
}

const randomFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  // Raw noise, mostly refused by the header checks.
  fc.uint8Array({ maxLength: 64 }),
  // A correct header, version and type over random payload: exercises the payload decoders.
  fc
    .tuple(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ maxLength: 300 }))
    .map(([type, payload]) => frameOf('01', type.toString(16).padStart(2, '0'), toHex(payload))),
  // A correct header over a random body.
  fc.uint8Array({ maxLength: 300 }).map((body) => frameOf(toHex(body))),
);

test('fuzz: 2,000 random byte strings decode or raise DecodeError, nothing else', () => {
  fc.assert(fc.property(randomFrame, decodesCleanly), { seed: FUZZ_SEED, numRuns: 2000 });
});

test('fuzz: 2,000 single-byte mutations of valid frames decode or raise DecodeError, nothing else', () => {
  const mutated = fc.tuple(arbMessage, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([m, at, xor]) => {
    const frame = encodeMessage(m);
    frame[at % frame.length]! ^= xor;
    return frame;
  });
  fc.assert(fc.property(mutated, decodesCleanly), { seed: FUZZ_SEED + 1, numRuns: 2000 });
});
