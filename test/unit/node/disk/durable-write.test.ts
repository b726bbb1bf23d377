import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, test } from 'node:test';
import {
  fsyncDirectory,
  fsyncDirectorySync,
  replaceFile,
  replaceFileSync,
  writeAtomic,
  writeReplacing,
  type Durability,
} from '../../../../src/node/disk/durable-write';

const base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-durable-'));
let n = 0;
const freshDir = (): string => {
  const dir = nodePath.join(base, `d${n++}`);
  fs.mkdirSync(dir);
  return dir;
};
after(() => fs.rmSync(base, { recursive: true, force: true }));

const LEVELS: Durability[] = ['none', 'file', 'file-and-folder'];

for (const durability of LEVELS) {
  test(`replaceFileSync (${durability}) replaces the target whole and leaves no temp file`, () => {
    const dir = freshDir();
    const file = nodePath.join(dir, 'a.json');
    fs.writeFileSync(file, 'the old content, longer than the new one');
    replaceFileSync(file, 'new', { durability });
    assert.equal(fs.readFileSync(file, 'utf8'), 'new');
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  });

  test(`replaceFile (${durability}) replaces the target whole and leaves no temp file`, async () => {
    const dir = freshDir();
    const file = nodePath.join(dir, 'a.bin');
    fs.writeFileSync(file, new Uint8Array(100).fill(7));
    await replaceFile(file, new Uint8Array([1, 2, 3]), { durability });
    assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
    assert.deepEqual(fs.readdirSync(dir), ['a.bin']);
  });
}

test('replaceFile writes through the temp file descriptor when given a writer', async () => {
  const dir = freshDir();
  const file = nodePath.join(dir, 'snapshot');
  const temp = nodePath.join(dir, 'snapshot.tmp');
  await replaceFile(
    file,
    async (fd) => {
      // The target is untouched until the writer is done.
      assert.equal(fs.existsSync(file), false);
      assert.equal(fs.existsSync(temp), true);
      fs.writeSync(fd, 'one ');
      fs.writeSync(fd, 'two');
    },
    { durability: 'file-and-folder', temp },
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'one two');
  assert.deepEqual(fs.readdirSync(dir), ['snapshot']);
});

test('a failed write leaves the old target in place and no temp file', async () => {
  const dir = freshDir();
  const file = nodePath.join(dir, 'state');
  fs.writeFileSync(file, 'old');
  await assert.rejects(
    replaceFile(
      file,
      async (fd) => {
        fs.writeSync(fd, 'half of the new');
        throw new Error('disk full');
      },
      { durability: 'file' },
    ),
    /disk full/,
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(dir), ['state']);
  // The synchronous form cannot fail midway on its own: a missing folder is its failure.
  assert.throws(() => replaceFileSync(nodePath.join(dir, 'missing', 'x'), 'x', { durability: 'file' }), { code: 'ENOENT' });
  assert.deepEqual(fs.readdirSync(dir), ['state']);
});

test('the new file gets the mode asked for', { skip: process.platform === 'win32' }, () => {
  const dir = freshDir();
  const file = nodePath.join(dir, 'identity.json');
  writeAtomic(file, '{}', 0o600);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  writeReplacing(nodePath.join(dir, 'status.json'), '{}');
  assert.equal(fs.readFileSync(nodePath.join(dir, 'status.json'), 'utf8'), '{}');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['identity.json', 'status.json']);
});

test('syncing a folder that cannot be synced is not an error', async () => {
  const missing = nodePath.join(base, 'no-such-folder');
  await fsyncDirectory(missing);
  fsyncDirectorySync(missing);
  await fsyncDirectory(freshDir());
});
