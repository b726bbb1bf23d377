import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CaseIndex, foldCase, isAncestor, splitExtension, validatePath } from '../../src/sync/path';

const bad: Record<string, string[]> = {
  empty: [''],
  absolute: ['/etc/passwd', 'C:x'],
  backslash: ['a\\b', '..\\x'],
  emptySegment: ['a//b', 'a/'],
  dotSegment: ['..', 'a/../b', './a', 'a/.'],
  controlCharacter: ['a\u0000b', 'x\ny', 'z\u007f'],
  notNfc: ['e\u0301.txt'],
  invalidCharacter: ['ab:c', 'what?', 'x*y', 'q"uote', 'a<b', 'p|q'],
  reservedName: ['con', 'dir/NUL.txt', 'com1', 'LPT9.log', 'com¹'],
  trailingDotOrSpace: ['name.', 'dir /x'],
  segmentTooLong: ['a'.repeat(256)],
  pathTooLong: [Array.from({ length: 20 }, () => 'b'.repeat(250)).join('/')],
  badUnicode: ['\ud800x'],
  internal: ['.shared-folder', '.shared-folder/versions/x', '.shared-folder-tmp-1'],
};

test('each kind of unsafe path gets its own typed error', () => {
  for (const [code, paths] of Object.entries(bad)) {
    for (const p of paths) assert.equal(validatePath(p)?.code, code, JSON.stringify(p));
  }
});

test('ordinary names pass', () => {
  for (const p of ['a', 'src/app.ts', 'Zoë/naïve café.md', '.bashrc', 'a/.shared-folder', 'x.y.z', 'deep/'.repeat(30) + 'f', '日本語/ファイル']) {
    assert.equal(validatePath(p), undefined, p);
  }
});

test('validatePath never throws, and accepted paths never escape the root', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (p) => {
      const problem = validatePath(p);
      if (problem) return;
      assert.ok(!p.startsWith('/'));
      for (const s of p.split('/')) assert.ok(s !== '' && s !== '.' && s !== '..');
    }),
    { numRuns: 2000 },
  );
});

test('case index finds names that collide on case-insensitive disks', () => {
  const idx = new CaseIndex();
  idx.add('Docs/Readme.md');
  assert.equal(idx.collision('docs/README.md'), 'Docs/Readme.md');
  assert.equal(idx.collision('Docs/Readme.md'), undefined);
  idx.remove('Docs/Readme.md');
  assert.equal(idx.collision('docs/README.md'), undefined);
  assert.equal(foldCase('ÄB'), foldCase('äb'));
});

test('path helpers', () => {
  assert.ok(isAncestor('a', 'a/b'));
  assert.ok(!isAncestor('a', 'ab/c'));
  assert.ok(!isAncestor('a', 'a'));
  assert.deepEqual(splitExtension('archive.tar.gz'), { stem: 'archive.tar', ext: '.gz' });
  assert.deepEqual(splitExtension('.bashrc'), { stem: '.bashrc', ext: '' });
});
