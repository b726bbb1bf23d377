import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNeeded, encodeNeeded, readMeta, writeMeta } from '../../../../../src/node/disk/state/state-codec';
import { decodeFrame, encodeFrame } from '../../../../../src/node/disk/state/state-journal';
import { ByteReader, ByteWriter, DecodeError } from '../../../../../src/sync/protocol/wire';

// Found by `npm run fuzz` (target state-journal): a flag byte of 2..255 was read as false and
// written back as 0, so damaged state loaded as if it were good and was silently rewritten.

const EMPTY = { set: [], remove: [] };

test('a needed entry whose onDisk flag is neither 0 nor 1 is refused', () => {
  const bytes = encodeNeeded({ path: 'a.txt' });
  assert.equal(bytes[bytes.length - 1], 0);
  bytes[bytes.length - 1] = 2;
  assert.throws(
    () => decodeNeeded(bytes),
    (err: unknown) => err instanceof DecodeError && err.code === 'badValue',
  );
});

test('a meta whose paused flag is neither 0 nor 1 is refused', () => {
  const w = new ByteWriter();
  writeMeta(w, { indexId: 'ix', sequence: 1, counter: 1, paused: false });
  const bytes = w.finish();
  const at = bytes.length - 2; // paused, then the empty root id's length
  assert.equal(bytes[at], 0);
  bytes[at] = 2;
  assert.throws(
    () => readMeta(new ByteReader(bytes), 2),
    (err: unknown) => err instanceof DecodeError && err.code === 'badValue',
  );
});

test('a journal frame whose meta flag is neither 0 nor 1 is refused', () => {
  const payload = encodeFrame(undefined, { records: EMPTY, needed: EMPTY, deferred: EMPTY }, []).slice(8);
  assert.deepEqual(decodeFrame(payload).sections.records, EMPTY);
  payload[1] = 2;
  assert.throws(
    () => decodeFrame(payload),
    (err: unknown) => err instanceof DecodeError && err.code === 'badValue',
  );
});
