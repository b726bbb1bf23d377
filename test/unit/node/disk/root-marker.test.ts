import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, test } from 'node:test';
import { DiskStore } from '../../../../src/node/disk/disk-store';
import { MARKER_DIR, readRootIdentity, ROOT_FILE, writeRootIdentity } from '../../../../src/node/disk/root-marker';

const base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-marker-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => nodePath.join(base, `f${n++}`);
const ROOT = '0123456789abcdef'.repeat(2);

test('a marker made by initFolder has no identity; with a space it names it and no root', async () => {
  const plain = freshDir();
  await DiskStore.initFolder(plain);
  assert.ok(fs.statSync(nodePath.join(plain, MARKER_DIR)).isDirectory());
  assert.equal(await readRootIdentity(plain), undefined);
  const named = freshDir();
  await DiskStore.initFolder(named, 'space-1');
  assert.deepEqual(await readRootIdentity(named), { space: 'space-1', root: '' });
});

test('initFolder never renames a claimed root nor another space', async () => {
  const dir = freshDir();
  await DiskStore.initFolder(dir);
  await writeRootIdentity(dir, { space: 'space-1', root: ROOT });
  await DiskStore.initFolder(dir, 'space-2');
  assert.deepEqual(await readRootIdentity(dir), { space: 'space-1', root: ROOT });
  // A root claimed by a host that did not say its space takes the space, keeps the root.
  const unnamed = freshDir();
  await writeRootIdentity(unnamed, { space: '', root: ROOT });
  await DiskStore.initFolder(unnamed, 'space-3');
  assert.deepEqual(await readRootIdentity(unnamed), { space: 'space-3', root: ROOT });
});

test('the identity is written whole, without a temp file left, and read back', async () => {
  const dir = freshDir();
  await writeRootIdentity(dir, { space: 's', root: ROOT });
  assert.deepEqual(await readRootIdentity(dir), { space: 's', root: ROOT });
  assert.deepEqual(fs.readdirSync(nodePath.join(dir, MARKER_DIR)), ['root.json']);
});

test('a damaged identity file reads as none: the state then never applies to the folder', async () => {
  const dir = freshDir();
  await writeRootIdentity(dir, { space: 's', root: ROOT });
  const file = nodePath.join(dir, ...ROOT_FILE.split('/'));
  fs.writeFileSync(file, '{"space":"s","ro');
  assert.equal(await readRootIdentity(dir), undefined);
  fs.writeFileSync(file, JSON.stringify({ space: 's', root: 'not hex' }));
  assert.deepEqual(await readRootIdentity(dir), { space: 's', root: '' });
  assert.equal(await readRootIdentity(freshDir()), undefined, 'no folder at all');
});
