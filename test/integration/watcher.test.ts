import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { DiskReplica } from '../../src/node/disk/disk-replica';
import { DiskStore } from '../../src/node/disk/disk-store';
import { isAlive } from '../../src/sync/model/file-record';
import { sleep, waitFor } from './disk-cluster';

async function watchedReplica(): Promise<{
  disk: DiskReplica;
  root: string;
  scans: Array<readonly string[] | undefined>;
  done: () => Promise<void>;
}> {
  const base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-watch-'));
  const root = nodePath.join(base, 'folder');
  await DiskStore.initFolder(root);
  const scans: Array<readonly string[] | undefined> = [];
  const disk = await DiskReplica.open({
    root,
    stateDir: nodePath.join(base, 'state'),
    user: 'alice',
    port: { send: () => undefined },
    // No periodic rescan during the test: only the watcher may find changes.
    rescanMs: 3_600_000,
    onScan: (_report, paths) => scans.push(paths),
  });
  await disk.start();
  scans.length = 0;
  return {
    disk,
    root,
    scans,
    done: async () => {
      await disk.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

test('the watcher alone brings saves, editor save-as-rename, new folders and deletes into the index', { timeout: 60_000 }, async () => {
  const { disk, root, done } = await watchedReplica();
  try {
    fs.writeFileSync(nodePath.join(root, 'a.txt'), 'one');
    await waitFor('a.txt in the index', () => disk.replica.record('a.txt')?.size === 3, 5_000);

    // An editor's safe save: write a temp file, rename it over the original.
    fs.writeFileSync(nodePath.join(root, 'a.txt.swp~'), 'two, saved safely');
    fs.renameSync(nodePath.join(root, 'a.txt.swp~'), nodePath.join(root, 'a.txt'));
    await waitFor('the saved a.txt', () => disk.replica.record('a.txt')?.size === 17, 5_000);
    assert.ok(!isAlive(disk.replica.record('a.txt.swp~')), 'the temp name is not a live file');

    // A folder made with files already inside, and a nested one after it.
    fs.mkdirSync(nodePath.join(root, 'x/y/z'), { recursive: true });
    fs.writeFileSync(nodePath.join(root, 'x/y/z/deep.md'), 'deep');
    await waitFor('x/y/z/deep.md', () => disk.replica.record('x/y/z/deep.md')?.size === 4, 5_000);
    fs.writeFileSync(nodePath.join(root, 'x/y/later.md'), 'later');
    await waitFor('x/y/later.md', () => disk.replica.record('x/y/later.md')?.size === 5, 5_000);

    // A folder moved elsewhere keeps being watched at its new place.
    fs.renameSync(nodePath.join(root, 'x'), nodePath.join(root, 'moved'));
    await waitFor(
      'the move',
      () => isAlive(disk.replica.record('moved/y/z/deep.md')) && !isAlive(disk.replica.record('x/y/z/deep.md')),
      5_000,
    );
    fs.writeFileSync(nodePath.join(root, 'moved/y/z/new.md'), 'new');
    await waitFor('a file in the moved folder', () => disk.replica.record('moved/y/z/new.md')?.size === 3, 5_000);

    fs.rmSync(nodePath.join(root, 'moved'), { recursive: true });
    await waitFor('the delete', () => !isAlive(disk.replica.record('moved/y/later.md')), 5_000);
  } finally {
    await done();
  }
});

test('a burst of 5,000 new files (a checkout) is coalesced into a few scans', { timeout: 120_000 }, async () => {
  const { disk, root, scans, done } = await watchedReplica();
  try {
    for (let d = 0; d < 50; d++) {
      fs.mkdirSync(nodePath.join(root, `src${d}`));
      for (let f = 0; f < 100; f++) fs.writeFileSync(nodePath.join(root, `src${d}`, `file${f}.ts`), `export const v = ${d * 100 + f};\n`);
    }
    await waitFor(
      'all 5,000 files in the index',
      () => disk.replica.records().filter((r) => r.type === 'file' && !r.deleted).length === 5_000,
      60_000,
    );
    assert.ok(scans.length <= 10, `${scans.length} scans for one burst`);
  } finally {
    await done();
  }
});

test('a file written in pieces is looked at once early, then again only once it settles', { timeout: 60_000 }, async () => {
  const { disk, root, scans, done } = await watchedReplica();
  try {
    // Six pieces 20 ms apart: a save looked at after the short first quiet would be looked at six
    // times; a path reported a moment ago waits for the full quiet, so the last five go as one.
    const file = nodePath.join(root, 'download.bin');
    for (let piece = 0; piece < 6; piece++) {
      fs.appendFileSync(file, new Uint8Array(1000).fill(piece));
      await sleep(20);
    }
    await waitFor('the whole file in the index', () => disk.replica.record('download.bin')?.size === 6000, 10_000);
    await sleep(300);
    const looks = scans.filter((paths) => paths === undefined || paths.includes('download.bin')).length;
    assert.ok(looks <= 3, `${looks} looks at one file written in six pieces`);
    assert.equal(disk.replica.record('download.bin')?.size, 6000);
  } finally {
    await done();
  }
});
