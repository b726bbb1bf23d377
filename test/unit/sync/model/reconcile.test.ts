import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareForWinner, conflictCopyPath, parseConflictCopyPath, pickWinner } from '../../../../src/sync/model/conflict';
import { sameRecord, NO_HASH, type FileRecord } from '../../../../src/sync/model/file-record';
import { reconcile } from '../../../../src/sync/model/reconcile';
import { withCounter, type VersionVector } from '../../../../src/sync/model/version-vector';

function hash(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

function file(path: string, version: VersionVector, over: Partial<FileRecord> = {}): FileRecord {
  return {
    path,
    type: 'file',
    deleted: false,
    size: 10,
    mtime: Date.UTC(2026, 10, 22, 10, 15, 0),
    executable: false,
    hash: hash(1),
    blocks: [{ hash: hash(9), size: 10 }],
    target: '',
    version,
    modifiedBy: 'alice',
    ancestor: NO_HASH,
    sequence: 0,
    ...over,
  };
}

const v = (pairs: Record<string, number>): VersionVector =>
  Object.entries(pairs).reduce<VersionVector>((acc, [id, n]) => withCounter(acc, id, n), []);

const arbRecord: fc.Arbitrary<FileRecord> = fc
  .record({
    kind: fc.constantFrom('file', 'directory', 'symlink', 'deleted'),
    mtime: fc.integer({ min: 0, max: 5 }),
    user: fc.constantFrom('alice', 'bob'),
    h: fc.integer({ min: 1, max: 3 }),
    a: fc.integer({ min: 0, max: 3 }),
    b: fc.integer({ min: 0, max: 3 }),
    exec: fc.boolean(),
  })
  .map(({ kind, mtime, user, h, a, b, exec }) =>
    file('doc.txt', v({ ...(a ? { a } : {}), ...(b ? { b } : {}) }), {
      type: kind === 'deleted' ? 'file' : kind,
      deleted: kind === 'deleted',
      mtime,
      modifiedBy: user,
      hash: kind === 'file' ? hash(h) : kind === 'symlink' ? hash(h + 10) : NO_HASH,
      blocks: kind === 'file' ? [{ hash: hash(h), size: 10 }] : [],
      target: kind === 'symlink' ? `t${h}` : '',
      executable: kind === 'file' && exec,
    }),
  );

test('the winner order is antisymmetric: if a beats b then b does not beat a', () => {
  fc.assert(
    fc.property(arbRecord, arbRecord, (a, b) => {
      const ab = Math.sign(compareForWinner(a, b));
      const ba = Math.sign(compareForWinner(b, a));
      assert.ok(ab + ba === 0, `compare(a, b) = ${ab} but compare(b, a) = ${ba}`);
      if (ab === 0) assert.ok(sameRecord(a, b), 'only identical records tie');
    }),
  );
});

test('every replica picks the same winner whichever side it is on', () => {
  fc.assert(
    fc.property(arbRecord, arbRecord, (a, b) => {
      fc.pre(!sameRecord(a, b));
      assert.ok(sameRecord(pickWinner(a, b).winner, pickWinner(b, a).winner));
    }),
  );
});

test('reconcile is symmetric: both replicas end with the same record and the same conflict copy', () => {
  fc.assert(
    fc.property(arbRecord, arbRecord, (a, b) => {
      const onA = reconcile(a, b);
      const onB = reconcile(b, a);
      const resultA = onA.kind === 'ignore' ? a : onA.record;
      const resultB = onB.kind === 'ignore' ? b : onB.record;
      if (onA.kind !== 'ignore' && onB.kind !== 'ignore') {
        assert.ok(sameRecord(resultA, resultB));
        const copyA = onA.kind === 'conflict' ? onA.copy : undefined;
        const copyB = onB.kind === 'conflict' ? onB.copy : undefined;
        assert.equal(copyA === undefined, copyB === undefined);
        if (copyA && copyB) assert.ok(sameRecord(copyA, copyB));
      }
    }),
  );
});

test('a newer version is adopted, an older or equal one ignored', () => {
  const old = file('f', v({ a: 1 }));
  const newer = file('f', v({ a: 2 }), { hash: hash(2) });
  assert.equal(reconcile(old, newer).kind, 'adopt');
  assert.equal(reconcile(newer, old).kind, 'ignore');
  assert.equal(reconcile(newer, newer).kind, 'ignore');
  assert.equal(reconcile(undefined, newer).kind, 'adopt');
});

test('concurrent versions with equal content are merged, never a conflict', () => {
  const a = file('f', v({ a: 2 }));
  const b = file('f', v({ b: 2 }), { mtime: 99, modifiedBy: 'bob' });
  const d = reconcile(a, b);
  assert.equal(d.kind, 'adopt');
  assert.deepEqual(d.kind === 'adopt' && d.record.version, v({ a: 2, b: 2 }));
});

test('concurrent edits keep the loser as a conflict copy named after its author and time', () => {
  const mine = file('src/app.ts', v({ a: 2 }), { modifiedBy: 'alice', mtime: Date.UTC(2026, 10, 22, 10, 0, 0) });
  const theirs = file('src/app.ts', v({ b: 2 }), { modifiedBy: 'bob', mtime: Date.UTC(2026, 10, 22, 10, 15, 30), hash: hash(2) });
  const d = reconcile(mine, theirs);
  assert.equal(d.kind, 'conflict');
  if (d.kind !== 'conflict') return;
  assert.equal(d.record.modifiedBy, 'bob', 'the later edit wins');
  assert.deepEqual(d.record.version, v({ a: 2, b: 2 }));
  assert.equal(d.copy?.path, 'src/app.conflict-alice-20261122-100000.ts');
  assert.deepEqual(d.copy?.hash, mine.hash);
});

test('an edit concurrent with a delete survives, and needs no copy', () => {
  const edited = file('f', v({ a: 2 }), { hash: hash(3) });
  const deleted = file('f', v({ b: 2 }), { deleted: true, hash: NO_HASH, blocks: [], mtime: edited.mtime + 1_000_000 });
  for (const d of [reconcile(edited, deleted), reconcile(deleted, edited)]) {
    assert.notEqual(d.kind, 'ignore');
    if (d.kind === 'ignore') return;
    assert.equal(d.record.deleted, false);
    assert.deepEqual(d.record.hash, hash(3));
    assert.equal(d.kind === 'conflict' ? d.copy : undefined, undefined);
  }
});

test('conflict copy names parse back to their file', () => {
  const cases: Array<[string, string]> = [
    ['notes.txt', 'notes.conflict-bob-20261122-101530.txt'],
    ['dir/Makefile', 'dir/Makefile.conflict-bob-20261122-101530'],
    ['.bashrc', '.bashrc.conflict-bob-20261122-101530'],
    ['a/archive.tar.gz', 'a/archive.tar.conflict-bob-20261122-101530.gz'],
  ];
  for (const [path, copy] of cases) {
    const r = file(path, v({ b: 1 }), { modifiedBy: 'bob', mtime: Date.UTC(2026, 10, 22, 10, 15, 30) });
    assert.equal(conflictCopyPath(r), copy);
    assert.equal(parseConflictCopyPath(copy)?.original, path);
  }
  assert.equal(parseConflictCopyPath('plain.txt'), undefined);
  assert.equal(conflictCopyPath(file('x.md', v({ b: 1 }), { modifiedBy: 'Zoë / ../evil' })).includes('/'), false);
});
