import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { versionName, VersionsFolder } from '../../../../src/node/disk/versions-folder';

/** The longest version name: the stem, `~yyyymmdd-hhmmss~999` and the extension. */
function longest(name: string): number {
  const { stem, ext } = versionName(name);
  return Buffer.byteLength(`${stem}~20261207-120000~999${ext}`);
}

test('names that leave room for the stamp keep their stem and extension', () => {
  assert.deepEqual(versionName('notes.txt'), { stem: 'notes', ext: '.txt' });
  const name = `${'a'.repeat(231)}.txt`;
  assert.equal(longest(name), 255);
  assert.deepEqual(versionName(name), { stem: 'a'.repeat(231), ext: '.txt' });
});

test('longer names are shortened to fit 255 bytes, at a character boundary, keeping the extension', () => {
  for (const name of [`${'a'.repeat(246)}.txt`, `${'é'.repeat(125)}.md`, `${'😀'.repeat(63)}.c`, 'b'.repeat(255), `x.${'e'.repeat(250)}`]) {
    const { stem, ext } = versionName(name);
    assert.ok(longest(name) <= 255, `${name.length}: ${longest(name)} bytes`);
    assert.match(stem, /#[0-9a-f]{16}$/);
    const cut = stem.slice(0, stem.length - 17);
    assert.doesNotMatch(cut, /[\ud800-\udbff]$/, 'no character cut in half');
    assert.ok(name.startsWith(cut), 'the stem starts the name');
    if (name.endsWith('.txt')) assert.equal(ext, '.txt');
  }
  assert.equal(versionName(`x.${'e'.repeat(250)}`).ext, '', 'a very long extension is part of the stem');
});

test('two long names with the same start get different version names, the same name always the same', () => {
  const a = `${'a'.repeat(240)}-one.txt`;
  const b = `${'a'.repeat(240)}-two.txt`;
  assert.notDeepEqual(versionName(a), versionName(b));
  assert.deepEqual(versionName(a), versionName(a));
});

test('the versions of a long name are kept and listed, and not mixed with a similar name', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-versions-'));
  try {
    let now = Date.UTC(2026, 11, 7, 12);
    const versions = new VersionsFolder(nodePath.join(dir, 'versions'), { now: () => now });
    const a = `sub/${'a'.repeat(240)}-one.txt`;
    const b = `sub/${'a'.repeat(240)}-two.txt`;
    fs.mkdirSync(nodePath.join(dir, 'sub'));
    for (const [path, text] of [
      [a, 'a1'],
      [a, 'a2'],
      [b, 'b1'],
    ] as const) {
      const abs = nodePath.join(dir, path);
      fs.writeFileSync(abs, text);
      await versions.moveIn(path, abs);
      now += 1000;
    }
    assert.deepEqual(
      (await versions.of(a)).map((f) => fs.readFileSync(f, 'utf8')),
      ['a1', 'a2'],
    );
    assert.deepEqual(
      (await versions.of(b)).map((f) => fs.readFileSync(f, 'utf8')),
      ['b1'],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('replacedSince: the first version kept from a time on, the one linked to the old inode first, none before', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-versions-'));
  try {
    let now = Date.UTC(2026, 11, 7, 12);
    const versions = new VersionsFolder(nodePath.join(dir, 'versions'), { now: () => now });
    const abs = nodePath.join(dir, 'notes.md');
    const keep = async (text: string): Promise<number> => {
      fs.writeFileSync(abs, text);
      const inode = fs.statSync(abs).ino;
      await versions.keepCopy('notes.md', abs);
      fs.rmSync(abs);
      return inode;
    };
    await keep('old');
    const noted = now + 2_500;
    now += 3_000;
    const before = await keep('before the change');
    const later = await keep('a later change, same second');
    now += 5_000;
    await keep('a change after that');
    const read = async (since: number, inode?: number): Promise<string | undefined> => {
      const file = await versions.replacedSince('notes.md', since, inode);
      return file === undefined ? undefined : fs.readFileSync(file, 'utf8');
    };
    assert.equal(await read(noted), 'before the change', 'whole seconds: a version of the noted second counts');
    assert.equal(await read(noted, before), 'before the change');
    assert.equal(await read(noted, later), 'a later change, same second', 'the linked one wins within the candidates');
    assert.equal(await read(noted, 999_999_999), 'before the change', 'no link: the first from then on');
    assert.equal(await read(now + 1_000), undefined, 'nothing kept since');
    assert.equal(await versions.replacedSince('other.md', 0), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
