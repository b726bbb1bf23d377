import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { toStoreError } from '../../../../src/node/disk/disk-errors';
import { DiskStore, MARKER_DIR } from '../../../../src/node/disk/disk-store';
import { FsWorkerPool } from '../../../../src/node/workers/fs-worker-pool';
import { IgnoreRules } from '../../../../src/node/disk/ignore-rules';
import { seedIgnoreFile } from '../../../../src/node/disk/ignore-seed';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import { DEFAULT_CHUNKING } from '../../../../src/sync/model/chunker';
import { blocksOf, contentHash } from '../../../../src/sync/model/content-hash';
import { StoreError, type Expectation } from '../../../../src/sync/ports/ports';

const pool = new FsWorkerPool(2);
let base: string;
let n = 0;
const clock = { now: () => Date.UTC(2026, 10, 22, 14, 30, 5) };

async function freshStore(rules = new IgnoreRules('')): Promise<{ store: DiskStore; root: string }> {
  const root = nodePath.join(base, `f${n++}`);
  await DiskStore.initFolder(root);
  const store = await DiskStore.open({ root, basesDir: `${root}-bases`, pool, rules: () => rules, clock });
  return { store, root };
}

const ANY: Expectation = { kind: 'any' };
const ABSENT: Expectation = { kind: 'absent' };

before(() => {
  base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-store-'));
});
after(async () => {
  await pool.close();
  fs.rmSync(base, { recursive: true, force: true });
});

async function writeFile(store: DiskStore, path: string, data: Uint8Array, expect: Expectation, mtime = 1_700_000_000_123): Promise<void> {
  const temp = await store.createTemp(path, data.length);
  await temp.write(0, data);
  await store.commitTemp(temp, path, expect, { mtime, executable: false });
}

test('a committed temp file appears whole, with the exact millisecond mtime and mode asked for', async () => {
  const { store, root } = await freshStore();
  const data = new TextEncoder().encode('hello world');
  const temp = await store.createTemp('a.txt', data.length);
  await temp.write(6, data.subarray(6));
  assert.equal(fs.existsSync(nodePath.join(root, 'a.txt')), false, 'nothing visible before the commit');
  await temp.write(0, data.subarray(0, 6));
  for (const mtime of [1_700_000_000_123, 1_700_000_000_999, 1_000, 1_700_000_000_001]) {
    const t = await store.createTemp('a.txt', data.length);
    await t.write(0, data);
    const entry = await store.commitTemp(t, 'a.txt', ANY, { mtime, executable: true });
    assert.equal(entry.mtime, mtime, 'reads back as the same millisecond');
    assert.equal(entry.executable, true);
  }
  await store.discardTemp(temp);
  assert.equal(fs.readFileSync(nodePath.join(root, 'a.txt'), 'utf8'), 'hello world');
  assert.equal(fs.statSync(nodePath.join(root, 'a.txt')).mode & 0o777, 0o755, 'rw-r--r-- plus execute where read is allowed');
  assert.deepEqual(fs.readdirSync(nodePath.join(root, MARKER_DIR, 'tmp')), [], 'no temp file left');
});

test('a write refuses to clobber a file that changed since the engine looked', async () => {
  const { store, root } = await freshStore();
  await writeFile(store, 'doc.txt', new TextEncoder().encode('v1'), ABSENT);
  const seen = (await store.stat('doc.txt'))!;
  fs.writeFileSync(nodePath.join(root, 'doc.txt'), 'user edit, longer');
  const temp = await store.createTemp('doc.txt', 2);
  await temp.write(0, new TextEncoder().encode('v2'));
  await assert.rejects(
    store.commitTemp(temp, 'doc.txt', { kind: 'entry', type: 'file', size: seen.size, mtime: seen.mtime }, { mtime: 5, executable: false }),
    (err: unknown) => err instanceof StoreError && err.code === 'changed',
  );
  assert.equal(fs.readFileSync(nodePath.join(root, 'doc.txt'), 'utf8'), 'user edit, longer', 'the user edit survives');
  await assert.rejects(writeFile(store, 'new.txt', new Uint8Array(1), { kind: 'entry', type: 'file', size: 1, mtime: 1 }), /changed/);
});

test('replaced and removed files move to the versions folder first', async () => {
  const { store, root } = await freshStore();
  await assert.rejects(writeFile(store, 'd/x.md', new TextEncoder().encode('old'), ABSENT), /does not exist/);
  await store.mkdir('d', ABSENT);
  await writeFile(store, 'd/x.md', new TextEncoder().encode('old'), ABSENT);
  await writeFile(store, 'd/x.md', new TextEncoder().encode('new'), ANY);
  const kept = await store.versions.of('d/x.md');
  assert.equal(kept.length, 1);
  assert.equal(nodePath.relative(root, kept[0]!), `${MARKER_DIR}/versions/d/x~20261122-143005.md`);
  assert.equal(fs.readFileSync(kept[0]!, 'utf8'), 'old');
  await store.remove('d/x.md', ANY);
  const after = await store.versions.of('d/x.md');
  assert.equal(after.length, 2, 'a second version in the same second gets its own name');
  assert.deepEqual(after.map((p) => fs.readFileSync(p, 'utf8')).sort(), ['new', 'old']);
  assert.equal(fs.existsSync(nodePath.join(root, 'd/x.md')), false);
});

test('writes never follow a symlink out of the folder', async () => {
  const { store, root } = await freshStore();
  const outside = fs.mkdtempSync(nodePath.join(base, 'outside-'));
  fs.symlinkSync(outside, nodePath.join(root, 'link'));
  await assert.rejects(writeFile(store, 'link/evil.txt', new Uint8Array(3), ABSENT), (err: unknown) => err instanceof StoreError);
  await assert.rejects(store.mkdir('link/sub', ABSENT), (err: unknown) => err instanceof StoreError);
  await assert.rejects(
    store.symlink('link/l', '/etc', ABSENT, { mtime: 1, executable: false }),
    (err: unknown) => err instanceof StoreError,
  );
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written outside');
  const link = (await store.stat('link'))!;
  assert.equal(link.type, 'symlink');
  assert.equal(link.target, outside);
});

test('rename never replaces what appeared at the target', async () => {
  const { store, root } = await freshStore();
  await writeFile(store, 'a', new TextEncoder().encode('a'), ABSENT);
  fs.writeFileSync(nodePath.join(root, 'b'), 'b');
  await assert.rejects(store.rename('a', 'b', ANY), (err: unknown) => err instanceof StoreError && err.code === 'changed');
  assert.equal(fs.readFileSync(nodePath.join(root, 'b'), 'utf8'), 'b');
  const moved = await store.rename('a', 'c', ANY);
  assert.equal(moved.path, 'c');
  assert.equal(fs.existsSync(nodePath.join(root, 'a')), false);
});

test('listing skips internal and ignored entries and reports symlinks as links', async () => {
  const { store, root } = await freshStore(new IgnoreRules('*.log\nnode_modules/\n'));
  fs.mkdirSync(nodePath.join(root, 'src/node_modules/pkg'), { recursive: true });
  fs.writeFileSync(nodePath.join(root, 'src/node_modules/pkg/index.js'), '');
  fs.writeFileSync(nodePath.join(root, 'src/app.ts'), 'x');
  fs.writeFileSync(nodePath.join(root, 'src/debug.log'), 'x');
  fs.mkdirSync(nodePath.join(root, '.git'));
  fs.writeFileSync(nodePath.join(root, '.git/HEAD'), 'x');
  fs.symlinkSync('/', nodePath.join(root, 'root-link'));
  fs.writeFileSync(nodePath.join(root, '.shared-folder-stray'), 'x');
  const entries = await store.list();
  assert.deepEqual(
    entries.map((e) => `${e.path}:${e.type}`),
    ['root-link:symlink', 'src:directory', 'src/app.ts:file'],
  );
  assert.deepEqual(
    (await store.list('src')).map((e) => e.path),
    ['src/app.ts'],
  );
});

test('the digester hashes in workers exactly as the engine does in memory', async () => {
  const { store, root } = await freshStore();
  const hasher = new NodeHasher();
  const digester = store.digester();
  const sizes = [0, 1, 8191, 100_000, 3_000_000];
  sizes.forEach((size, i) => fs.writeFileSync(nodePath.join(root, `f${i}`), new Uint8Array(size).fill(i * 7 + 1)));
  const digests = await Promise.all(sizes.map((size, i) => digester.digest({ path: `f${i}` }, size, DEFAULT_CHUNKING)));
  sizes.forEach((size, i) => {
    const data = new Uint8Array(fs.readFileSync(nodePath.join(root, `f${i}`)));
    const blocks = blocksOf(data, hasher);
    assert.deepEqual(digests[i]!.blocks, blocks, `blocks of a ${size}-byte file`);
    assert.deepEqual(digests[i]!.hash, contentHash(blocks, hasher));
  });
  assert.equal(await digester.digest({ path: 'f2' }, 9999, DEFAULT_CHUNKING), undefined, 'a size that changed is no digest');
  assert.equal(await digester.digest({ path: 'missing' }, 10, DEFAULT_CHUNKING), undefined);
});

test('a crash leaves temp files only inside .shared-folder, and opening clears them', async () => {
  const { store, root } = await freshStore();
  // A small file is put together in memory: nothing is on the disk before its seal writes it whole.
  const small = await store.createTemp('x', 100);
  await small.write(0, new Uint8Array([1]));
  assert.equal(fs.existsSync(nodePath.join(root, MARKER_DIR, 'tmp')), false);
  await store.sealTemp(small, { mtime: 1_700_000_000_000, executable: false });
  // A big one goes to its temp file block by block.
  const big = await store.createTemp('y', 4 * 1024 * 1024);
  await big.write(0, new Uint8Array([1]));
  assert.equal(fs.readdirSync(nodePath.join(root, MARKER_DIR, 'tmp')).length, 2);
  await DiskStore.open({ root, basesDir: `${root}-bases`, pool, rules: () => new IgnoreRules(''), clock });
  assert.equal(fs.existsSync(nodePath.join(root, MARKER_DIR, 'tmp')), false);
});

test('file system errors map to the engine codes with a message a person can act on', () => {
  const cases: Array<[string, string]> = [
    ['ENOSPC', 'noSpace'],
    ['EDQUOT', 'noSpace'],
    ['EACCES', 'permission'],
    ['EROFS', 'permission'],
    ['EBUSY', 'locked'],
    ['ENAMETOOLONG', 'nameTooLong'],
    ['EIO', 'io'],
  ];
  for (const [errno, code] of cases) {
    const err = toStoreError(Object.assign(new Error('x'), { code: errno }), 'dir/file.bin');
    assert.equal(err.code, code);
    assert.match(err.message, new RegExp(`^dir/file\\.bin: .+ \\(${errno}\\)$`));
  }
});

test('a batch of commits renames each file whose path is as expected; one the user changed fails alone and survives', async () => {
  const { store, root } = await freshStore();
  await writeFile(store, 'kept.txt', new TextEncoder().encode('old'), ABSENT);
  const seen = (await store.stat('kept.txt'))!;
  fs.writeFileSync(nodePath.join(root, 'kept.txt'), 'the user saved this');
  const temps = [];
  for (const [path, text] of [
    ['a.txt', 'aaa'],
    ['kept.txt', 'new'],
    ['b.txt', ''],
  ] as const) {
    const temp = await store.createTemp(path, text.length);
    if (text.length > 0) await temp.write(0, new TextEncoder().encode(text));
    await store.sealTemp(temp, { mtime: 1_700_000_000_123, executable: false });
    temps.push({ temp, path, meta: { mtime: 1_700_000_000_123, executable: false } });
  }
  const results = await store.commitTemps([
    { ...temps[0]!, expect: ABSENT },
    { ...temps[1]!, expect: { kind: 'entry', type: 'file', size: seen.size, mtime: seen.mtime } },
    { ...temps[2]!, expect: ABSENT },
  ]);
  assert.ok(results[1] instanceof StoreError && results[1].code === 'changed');
  assert.equal(fs.readFileSync(nodePath.join(root, 'kept.txt'), 'utf8'), 'the user saved this');
  for (const [i, path, text] of [
    [0, 'a.txt', 'aaa'],
    [2, 'b.txt', ''],
  ] as const) {
    assert.equal(fs.readFileSync(nodePath.join(root, path), 'utf8'), text);
    const entry = results[i] as { inode: number; mtime: number; size: number };
    const st = fs.statSync(nodePath.join(root, path));
    assert.deepEqual(
      [entry.inode, entry.mtime, entry.size],
      [st.ino, 1_700_000_000_123, text.length],
      'the entry describes the file renamed into place',
    );
  }
  await store.discardTemp(temps[1]!.temp);
  assert.deepEqual(fs.readdirSync(nodePath.join(root, MARKER_DIR, 'tmp')), [], 'no temp file left');
});

test("a shared folder's .sharedignore is started from the sharer's patterns, never replaced", () => {
  const root = fs.mkdtempSync(nodePath.join(base, 'seed-'));
  assert.equal(seedIgnoreFile(root, ['  ', '']), false, 'no patterns, no file');
  assert.equal(fs.existsSync(nodePath.join(root, '.sharedignore')), false);
  assert.equal(seedIgnoreFile(root, ['*.log', ' node_modules/ ', '']), true);
  assert.equal(fs.readFileSync(nodePath.join(root, '.sharedignore'), 'utf8'), '*.log\nnode_modules/\n');
  assert.equal(seedIgnoreFile(root, ['other']), false, 'the folder already has its rules');
  assert.equal(fs.readFileSync(nodePath.join(root, '.sharedignore'), 'utf8'), '*.log\nnode_modules/\n');
  assert.throws(() => seedIgnoreFile(fs.mkdtempSync(nodePath.join(base, 'seed-')), ['a\nb']), RangeError);
});

test('new files are placed together only where each folder on the way is real and nothing is there yet', async () => {
  const { store, root } = await freshStore();
  const outside = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-outside-'));
  fs.mkdirSync(nodePath.join(root, 'real'));
  fs.symlinkSync(outside, nodePath.join(root, 'link'));
  const meta = { mtime: 1_700_000_000_123, executable: true };
  const cases = [
    ['real/placed.txt', 'placed'],
    ['link/escape.txt', 'must not leave the folder'],
    ['missing/lost.txt', 'no folder for it'],
    ['real/taken.txt', 'the user was first'],
  ] as const;
  const commits = [];
  for (const [path, text] of cases) {
    const temp = await store.createTemp(path, text.length);
    await temp.write(0, new TextEncoder().encode(text));
    await store.sealTemp(temp, meta);
    commits.push({ temp, path, expect: ABSENT, meta });
  }
  fs.writeFileSync(nodePath.join(root, 'real/taken.txt'), 'mine');
  const results = await store.commitTemps(commits);
  const placed = results[0]!;
  assert.ok(!(placed instanceof StoreError));
  assert.deepEqual(placed, await store.stat('real/placed.txt'), 'the entry reported is what the disk has');
  assert.equal(fs.readFileSync(nodePath.join(root, 'real/placed.txt'), 'utf8'), 'placed');
  assert.ok(placed.executable);
  assert.ok(results[1] instanceof StoreError && results[1].code === 'changed' && /link is not a folder/.test(results[1].message));
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written through the symlink');
  assert.ok(
    results[2] instanceof StoreError && results[2].code === 'notFound' && /its folder missing does not exist/.test(results[2].message),
  );
  assert.ok(results[3] instanceof StoreError && results[3].code === 'changed');
  assert.equal(fs.readFileSync(nodePath.join(root, 'real/taken.txt'), 'utf8'), 'mine', "the user's file stays");
  for (const c of commits.slice(1)) await store.discardTemp(c.temp);
  assert.deepEqual(fs.readdirSync(nodePath.join(root, MARKER_DIR, 'tmp')), [], 'no temp file is left');
  fs.rmSync(outside, { recursive: true, force: true });
});

test('blocks read in one turn come back right, each from its own file; a short file gives fewer bytes, a missing one notFound', async () => {
  const { store, root } = await freshStore();
  const files = Array.from({ length: 100 }, (_, i) => new Uint8Array(1000 + i).map((_, j) => (i * 7 + j) & 0xff));
  files.forEach((data, i) => fs.writeFileSync(nodePath.join(root, `b${i}`), data));
  const reads = await Promise.all(files.map((_, i) => store.read(`b${i}`, 10, 500)));
  reads.forEach((got, i) => assert.deepEqual(got, files[i]!.subarray(10, 510), `b${i}`));
  assert.deepEqual(await store.read('b0', 900, 500), files[0]!.subarray(900));
  await assert.rejects(store.read('missing', 0, 10), (err: unknown) => err instanceof StoreError && err.code === 'notFound');
});

test('small files are held in memory up to 64 MiB in all; beyond, they go to the disk block by block', async () => {
  const { store, root } = await freshStore();
  const tmp = nodePath.join(root, MARKER_DIR, 'tmp');
  const temps = [];
  for (let i = 0; i < 65; i++) {
    const temp = await store.createTemp(`m${i}`, 1024 * 1024);
    await temp.write(0, new Uint8Array([i + 1]));
    temps.push(temp);
  }
  assert.equal(fs.readdirSync(tmp).length, 1, 'the 65th MiB is on the disk; the first 64 are in memory');
  await store.discardTemp(temps[0]!);
  const next = await store.createTemp('next', 1024 * 1024);
  await next.write(0, new Uint8Array([7]));
  assert.equal(fs.readdirSync(tmp).length, 1, 'a discarded file gives its room back');
  for (const t of [...temps.slice(1), next]) await store.discardTemp(t);
  assert.deepEqual(fs.readdirSync(tmp), []);
});
