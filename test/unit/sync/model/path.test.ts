import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { utf8 } from '../../../../src/sync/util/bytes';
import {
  assertValidPath,
  baseName,
  CaseIndex,
  depth,
  foldCase,
  INTERNAL_PREFIX,
  isAncestor,
  isInternalPath,
  joinPath,
  MAX_PATH_BYTES,
  parentOf,
  PathError,
  splitExtension,
  utf8Length,
  validatePath,
  type PathProblemCode,
} from '../../../../src/sync/model/path';

/** A path of exactly `bytes` UTF-8 bytes, made of segments of at most 200 bytes. */
function pathOfBytes(bytes: number): string {
  const segments: string[] = [];
  let left = bytes;
  while (left > 0) {
    const take = Math.min(200, left - (segments.length > 0 ? 1 : 0));
    segments.push('a'.repeat(take));
    left -= take + (segments.length > 1 ? 1 : 0);
  }
  const path = segments.join('/');
  assert.ok(utf8(path).length === bytes && !path.includes('//') && !path.endsWith('/'));
  return path;
}

const INVALID: Record<PathProblemCode, readonly string[]> = {
  empty: [''],
  absolute: [
    '/',
    '/a',
    '/etc/passwd',
    '//server/share',
    'C:',
    'C:x',
    'c:/',
    'C:/Windows',
    'z:relative',
    'C:\\x',
    '\\\\server\\share',
    '\\a',
  ],
  backslash: ['a\\b', 'a\\', 'dir/file\\name', 'a/..\\..\\b', '..\\x'],
  emptySegment: ['a//b', 'a/', 'a/b/', 'a///b'],
  dotSegment: ['.', '..', 'a/../b', 'a/.', './a', '../x', 'a/b/..'],
  controlCharacter: ['a\u0000b', 'a\nb', '\t', 'x\u001f', 'x\u007f', 'a/\rb', '\u0000'],
  notNfc: ['e\u0301', 'e\u0301.txt', 'cafe\u0301/x', '\u212b', 'a/\u1100\u1161', 'A\u030a.txt'],
  invalidCharacter: ['a<b', 'a>b', 'a/b:c', 'ab:c', 'q"uote', 'a|b', 'what?', 'x*y', 'file.txt:stream'],
  reservedName: [
    'CON',
    'con',
    'a/Nul.txt',
    'dir/NUL.txt',
    'prn.tar.gz',
    'AUX',
    'COM1',
    'com9',
    'lpt9.log',
    'LPT1',
    'COM¹',
    'com²',
    'lpt³.txt',
    'con .txt',
    'CONIN$',
    'conout$.x',
    'dir/aux/file',
  ],
  trailingDotOrSpace: ['a.', 'name.', 'a ', 'dir./x', 'dir /x', 'x/y ', '...', ' ', 'name. ', 'a/b../c'],
  segmentTooLong: ['a'.repeat(256), 'é'.repeat(128), '😀'.repeat(64), `ok/${'b'.repeat(300)}/c`],
  pathTooLong: [pathOfBytes(MAX_PATH_BYTES + 1), Array(20).fill('a'.repeat(250)).join('/'), Array(2100).fill('é').join('/')],
  badUnicode: ['\ud800', '\ud800x', 'a\udc00b', 'x/\ud83d', '\ude00\ud83d', '\ud83d/\ude00'],
  internal: [
    INTERNAL_PREFIX,
    '.shared-folder/tmp/x',
    '.shared-folder/versions/x',
    '.shared-folder-tmp-1',
    '.SHARED-FOLDER/x',
    '.Shared-Folder',
    '.shared\u200c-folder',
    'SHARED~1',
    'shared~2/x',
  ],
};

for (const [code, paths] of Object.entries(INVALID) as [PathProblemCode, readonly string[]][]) {
  test(`validatePath reports ${code}`, () => {
    for (const path of paths) {
      const problem = validatePath(path);
      assert.ok(problem instanceof PathError, `expected ${code} for ${JSON.stringify(path)}`);
      assert.equal(problem.code, code, `for ${JSON.stringify(path)}: ${problem.message}`);
      assert.equal(problem.path, path);
      assert.throws(
        () => assertValidPath(path),
        (e: unknown) => e instanceof PathError && e.code === code,
      );
    }
  });
}

const VALID = [
  'a',
  'README.md',
  'src/app.ts',
  'My Documents/notes.txt',
  'a b/c d',
  ' leading space',
  'archive.tar.gz',
  'x.y.z',
  '.bashrc',
  '.git/config',
  '..hidden',
  'a..b',
  'v1.2.3/release.notes.md',
  'Zoë/naïve café.md',
  'Ünïcödé/日本語/файл.txt',
  '日本語/ファイル',
  'emoji 😀.png',
  '한국어/가',
  'é'.repeat(127) + 'a',
  'x'.repeat(255),
  'deep/'.repeat(30) + 'f',
  Array(200).fill('d').join('/'),
  pathOfBytes(MAX_PATH_BYTES),
  "-dash/#hash/it's/[brackets]/{braces}/%20/~tilde/@at/+plus/=eq/,comma/;semi",
  'CONSOLE',
  'COM0',
  'COM10',
  'LPT',
  'con_',
  'nul-device.txt',
  'xcon',
  'aux2',
  'shared-folder',
  'a/.shared-folder',
  'x.shared-folder',
  'SHARED~1.txt',
  'shared~',
  'sub/SHARED~1',
];

test('validatePath accepts ordinary paths', () => {
  for (const path of VALID) {
    const problem = validatePath(path);
    assert.equal(problem, undefined, problem?.message);
    assert.doesNotThrow(() => assertValidPath(path));
  }
});

test('PathError messages are readable and bounded', () => {
  const problem = validatePath('a//b')!;
  assert.ok(problem instanceof Error);
  assert.equal(problem.name, 'PathError');
  assert.match(problem.message, /"a\/\/b"/);
  assert.match(problem.message, /empty segment/);
  const huge = validatePath(`${'a'.repeat(100_000)}\u0000`)!;
  assert.equal(huge.code, 'controlCharacter');
  assert.ok(huge.message.length < 400);
  assert.match(validatePath('a\u0000')!.message, /\\u0000/);
});

test('utf8Length matches TextEncoder', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => utf8Length(s) === utf8(s).length));
});

/** Any UTF-16 code unit (lone surrogates included), any code point, or a troublesome fragment. */
const anyUnit: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  fc.constantFrom('/', '.', '..', '\\', ':', ' ', 'C:', 'e\u0301', 'con', '.shared-folder', 'a', 'Z'),
);

test('validatePath never throws, whatever the string', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: anyUnit }), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => {
      const problem = validatePath(s);
      assert.ok(problem === undefined || problem instanceof PathError);
    }),
    { numRuns: 2000 },
  );
});

/**
 * Resolves a relative path under a root the way a file system would, treating `\` as a separator
 * too (Windows does). Returns false when it would leave the root or name the root itself.
 */
function staysInsideRoot(path: string): boolean {
  if (/^[A-Za-z]:/.test(path) || path.startsWith('/') || path.startsWith('\\')) return false;
  const stack: string[] = [];
  for (const segment of path.split(/[\\/]/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else stack.push(segment);
  }
  return stack.length > 0;
}

/** Paths built from segments, so a fair share of them pass validation. */
const segment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '.', '..', 'a', 'B', 'con', 'x.', 'é', 'e\u0301', '.shared-folder', '...', 'a b', 'c:'),
  fc.string({ unit: anyUnit, minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }),
);
const segmentedPath = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/'));

test('accepted paths are relative, NFC, and never escape the root', () => {
  let accepted = 0;
  fc.assert(
    fc.property(segmentedPath, (path) => {
      if (validatePath(path)) return;
      accepted++;
      const segments = path.split('/');
      assert.ok(!path.startsWith('/') && !/^[A-Za-z]:/.test(path));
      assert.ok(segments.every((s) => s !== '' && s !== '.' && s !== '..'));
      assert.equal(path, path.normalize('NFC'));
      assert.ok(staysInsideRoot(path));
      assert.ok(staysInsideRoot(`${path}/child`));
      assert.equal(depth(path), segments.length);
      assert.equal(joinPath(parentOf(path), baseName(path)), path);
      assert.ok(isAncestor(parentOf(path), path));
      assert.ok(!isInternalPath(path));
    }),
    { numRuns: 3000 },
  );
  assert.ok(accepted > 100, `only ${accepted} generated paths were valid`);
});

test('foldCase meets the names case-insensitive disks treat as one', () => {
  const same: [string, string][] = [
    ['ReadMe.MD', 'readme.md'],
    ['ÄB', 'äb'],
    ['ΟΔΟΣ', 'οδοσ'],
    ['ΟΔΟΣ', 'οδος'],
    ['ſ', 's'],
    ['\u212a', 'k'],
    ['\u212b', 'å'],
    ['ẞ', 'ß'],
    ['µ', 'μ'],
    ['É/Ü', 'é/ü'],
    ['e\u0301', 'É'],
    ['ǅ', 'ǆ'],
    ['I', 'i'],
  ];
  for (const [a, b] of same) assert.equal(foldCase(a), foldCase(b), `${a} ~ ${b}`);
  const different: [string, string][] = [
    ['Straße', 'STRASSE'],
    ['a', 'b'],
    ['é', 'e'],
    ['İ', 'i'],
    ['a/b', 'a-b'],
  ];
  for (const [a, b] of different) assert.notEqual(foldCase(a), foldCase(b), `${a} !~ ${b}`);
});

test('foldCase is idempotent and ignores case changes of the input', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const key = foldCase(s);
      assert.equal(foldCase(key), key);
      assert.equal(foldCase(s.normalize('NFD')), key);
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
      assert.equal(foldCase(s.toUpperCase()), foldCase(s.toLowerCase()));
    }),
  );
});

test('CaseIndex finds differently-cased paths, and adding twice is idempotent', () => {
  const index = new CaseIndex();
  index.add('Docs/Readme.md');
  index.add('Docs/Readme.md');
  assert.equal(index.collision('docs/README.MD'), 'Docs/Readme.md');
  assert.equal(index.collision('Docs/Readme.md'), undefined);
  assert.equal(index.collision('Docs/Other.md'), undefined);
  assert.ok(index.has('Docs/Readme.md'));
  index.remove('Docs/Readme.md');
  assert.ok(!index.has('Docs/Readme.md'));
  assert.equal(index.collision('docs/README.MD'), undefined);
  index.remove('never-added');
  index.add('A');
  index.add('a');
  assert.equal(index.collision('A'), 'a');
  assert.equal(index.collision('a'), 'A');
  assert.equal(index.collision('ȧ'), undefined);
});

type Op = { kind: 'add' | 'remove'; path: string };

for (const owned of [false, true]) {
  test(`CaseIndex agrees with a brute-force search over the live paths${owned ? ', with the owner answering for self-keyed paths' : ''}`, () => {
    const name = fc
      .array(fc.constantFrom('a', 'A', 'b', 'B', 'ς', 'σ', 'Σ', 'ß', 'ẞ', 'é', 'É', '/'), { minLength: 1, maxLength: 3 })
      .map((parts) => parts.join(''));
    const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('add', 'remove'), path: name });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(name, { minLength: 1, maxLength: 10 }), (ops, probes) => {
        // Insertion-ordered, like the index, so "the first other path" means the same in both.
        const live: string[] = [];
        const index = owned ? new CaseIndex((p) => live.includes(p)) : new CaseIndex();
        for (const { kind, path } of ops) {
          if (kind === 'add') {
            index.add(path);
            if (!live.includes(path)) live.push(path);
          } else {
            index.remove(path);
            const at = live.indexOf(path);
            if (at >= 0) live.splice(at, 1);
          }
        }
        for (const probe of [...probes, ...live]) {
          const others = live.filter((other) => other !== probe && foldCase(other) === foldCase(probe));
          const selfKeyed = owned ? others.find((other) => foldCase(other) === other) : undefined;
          assert.equal(index.collision(probe), selfKeyed ?? others[0]);
          assert.equal(index.has(probe), live.includes(probe));
        }
      }),
    );
  });
}

test('isInternalPath looks only at the first segment, as a case-insensitive disk would', () => {
  for (const p of ['.shared-folder', '.shared-folder/tmp', '.shared-folder.tmp/x', '.SHARED-FOLDER', 'SHARED~1/x']) {
    assert.ok(isInternalPath(p), p);
  }
  for (const p of ['a/.shared-folder', 'shared-folder', '_.shared-folder', 'SHARED~1.txt', '']) {
    assert.ok(!isInternalPath(p), p);
  }
});

test('parentOf, baseName, joinPath and depth', () => {
  assert.equal(parentOf('a'), '');
  assert.equal(parentOf('a/b'), 'a');
  assert.equal(parentOf('a/b/c.txt'), 'a/b');
  assert.equal(baseName('a'), 'a');
  assert.equal(baseName('a/b/c.txt'), 'c.txt');
  assert.equal(joinPath('', 'a'), 'a');
  assert.equal(joinPath('a/b', 'c'), 'a/b/c');
  assert.equal(depth(''), 0);
  assert.equal(depth('a'), 1);
  assert.equal(depth('a/b/c'), 3);
});

test('isAncestor is strict and segment-aware', () => {
  assert.ok(isAncestor('a', 'a/b'));
  assert.ok(isAncestor('a', 'a/b/c'));
  assert.ok(isAncestor('a/b', 'a/b/c'));
  assert.ok(isAncestor('', 'a'));
  assert.ok(!isAncestor('a', 'a'));
  assert.ok(!isAncestor('a', 'ab/c'));
  assert.ok(!isAncestor('a', 'ab'));
  assert.ok(!isAncestor('a/b', 'a'));
  assert.ok(!isAncestor('a', 'b/a/c'));
  assert.ok(!isAncestor('', ''));
  assert.ok(!isAncestor('a', 'a/'));
});

test('splitExtension', () => {
  const cases: [string, string, string][] = [
    ['archive.tar.gz', 'archive.tar', '.gz'],
    ['notes.txt', 'notes', '.txt'],
    ['Makefile', 'Makefile', ''],
    ['.bashrc', '.bashrc', ''],
    ['..x', '..x', ''],
    ['.config.json', '.config', '.json'],
    ['a.', 'a.', ''],
    ['a.b.', 'a.b.', ''],
    ['', '', ''],
  ];
  for (const [name, stem, ext] of cases) {
    assert.deepEqual(splitExtension(name), { stem, ext }, name);
    assert.equal(stem + ext, name);
  }
});
