import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { StateJournal } from '../../../../../src/node/disk/state/state-journal';
import type { FileRecord } from '../../../../../src/sync/model/file-record';
import { Prng } from '../../../../sim/prng';
import { bareRecord } from '../../../sync/replica/engine-harness';

function fileRecord(rng: Prng, path: string, sequence: number, blockCount: number): FileRecord {
  const blocks = Array.from({ length: blockCount }, () => ({ hash: rng.bytes(32), size: 1 + rng.int(200_000) }));
  return bareRecord(path, sequence, {
    type: 'file',
    size: blocks.reduce((s, b) => s + b.size, 0),
    mtime: 1_700_000_000_000 + rng.int(1e9),
    hash: rng.bytes(32),
    blocks,
    version: [{ id: 'abc', counter: 1 + rng.int(1e6) }],
    ancestor: rng.chance(0.5) ? rng.bytes(32) : new Uint8Array(0),
    inode: 1 + rng.int(1e9),
  });
}

/** Records committed, then loaded back by a journal opened anew: the loaded ones are packed. */
async function roundTrip(records: FileRecord[]): Promise<FileRecord[]> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-packed-'));
  try {
    const first = await StateJournal.open(dir, { sync: 'none' });
    await first.commit({ meta: { indexId: 'x', sequence: records.length, counter: 1, paused: false }, records });
    await first.close();
    const again = await StateJournal.open(dir, { sync: 'none' });
    const loaded = (await again.load())!.records;
    await again.close();
    const byPath = new Map(loaded.map((r) => [r.path, r]));
    return records.map((r) => byPath.get(r.path)!);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a loaded record with blocks is packed, and its hash and blocks read, spreads, clones and compares as the record committed', async () => {
  const rng = new Prng(5);
  // 3,000 records fill several arena chunks; one of 2,000 blocks is larger than a chunk's default room.
  const records = Array.from({ length: 3000 }, (_, i) => fileRecord(rng, `d/f${i}`, i + 1, i === 1500 ? 2000 : 1 + rng.int(3)));
  const loaded = await roundTrip(records);
  for (let i = 0; i < records.length; i++) {
    const [want, got] = [records[i]!, loaded[i]!];
    assert.equal(typeof Object.getOwnPropertyDescriptor(got, 'blocks')?.get, 'function', 'the block list is decoded on demand');
    assert.equal(typeof Object.getOwnPropertyDescriptor(got, 'hash')?.get, 'function', 'the hash is decoded on demand');
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.deepStrictEqual(got, want);
    assert.deepStrictEqual({ ...got }, want, 'a spread carries the block list');
    assert.deepStrictEqual({ ...got, sequence: 7 }, { ...want, sequence: 7 });
    assert.deepStrictEqual(structuredClone(got), structuredClone(want));
    assert.equal(JSON.stringify(got.blocks), JSON.stringify(want.blocks));
    assert.deepStrictEqual(Object.keys(got).sort(), Object.keys(want).sort());
  }
  const one = loaded[0]!;
  assert.notEqual(one.blocks, one.blocks, 'each read is a new array');
  const returned = one.blocks[0]!.hash;
  returned[0] = returned[0]! ^ 0xff;
  const hash = one.hash;
  hash[0] = hash[0]! ^ 0xff;
  assert.deepStrictEqual(one, records[0], "changing a returned array changes no record's bytes");
});

test('records without blocks (directories, tombstones, empty files) load as plain records', async () => {
  const records: FileRecord[] = [
    bareRecord('dir', 1, { type: 'directory', inode: 0 }),
    bareRecord('gone', 2, { deleted: true, inode: 0 }),
    bareRecord('empty', 3, { type: 'file', inode: 4 }),
  ];
  const loaded = await roundTrip(records);
  for (let i = 0; i < records.length; i++) {
    assert.equal(Object.getOwnPropertyDescriptor(loaded[i], 'blocks')?.get, undefined);
    assert.deepStrictEqual(loaded[i], records[i]);
  }
});
