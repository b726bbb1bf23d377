import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { toHex } from '../../src/sync/util/bytes';
import { Prng } from '../sim/prng';
import { DiskCluster, describe, sha256File, sleep, waitFor, type Member } from './disk-cluster';

const NAMES = ['a', 'b', 'notes.txt', 'data.bin', 'readme.md', 'x', 'y.json', 'empty'];

/** The directories and files under a member's folder, as the random operations see them. */
function listing(root: string): { dirs: string[]; files: string[]; all: string[] } {
  const dirs: string[] = [''];
  const files: string[] = [];
  const all: string[] = [];
  const visit = (dir: string): void => {
    for (const name of fs.readdirSync(nodePath.join(root, dir)).sort()) {
      if (dir === '' && name.startsWith('.shared-folder')) continue;
      const path = dir === '' ? name : `${dir}/${name}`;
      const st = fs.lstatSync(nodePath.join(root, path));
      all.push(path);
      if (st.isDirectory()) {
        dirs.push(path);
        visit(path);
      } else if (st.isFile()) files.push(path);
    }
  };
  visit('');
  return { dirs, files, all };
}

function writeAtomically(abs: string, data: Uint8Array): void {
  // Half the time as editors save (a temp file renamed over), half in place.
  if (data.length % 2 === 0) {
    const temp = `${abs}.~tmp`;
    fs.writeFileSync(temp, data);
    fs.renameSync(temp, abs);
  } else fs.writeFileSync(abs, data);
}

/** One random change to a member's folder, made with plain file system calls. Returns what it did. */
function randomOperation(rng: Prng, m: Member): string {
  const { dirs, files, all } = listing(m.root);
  const abs = (p: string): string => nodePath.join(m.root, ...p.split('/'));
  const freshPath = (): string => {
    const dir = rng.pick(dirs);
    const name = `${rng.pick(NAMES)}${rng.int(4)}`;
    const path = dir === '' ? name : `${dir}/${name}`;
    return fs.existsSync(abs(path)) ? `${path}-${rng.int(1000)}` : path;
  };
  const content = (): Uint8Array => {
    const kind = rng.int(10);
    const size = kind === 0 ? 0 : kind < 7 ? rng.range(1, 5_000) : rng.range(50_000, 300_000);
    return rng.bytes(size);
  };
  const roll = rng.int(100);
  try {
    if (roll < 20 || files.length === 0) {
      const path = freshPath();
      writeAtomically(abs(path), content());
      return `write ${path}`;
    }
    if (roll < 35) {
      const path = rng.pick(files);
      writeAtomically(abs(path), content());
      return `overwrite ${path}`;
    }
    if (roll < 42) {
      const path = rng.pick(files);
      fs.appendFileSync(abs(path), rng.bytes(rng.range(1, 2_000)));
      return `append ${path}`;
    }
    if (roll < 50) {
      const path = rng.pick(files);
      fs.rmSync(abs(path));
      return `delete ${path}`;
    }
    if (roll < 60) {
      const from = rng.pick(files);
      const to = freshPath();
      fs.renameSync(abs(from), abs(to));
      return `rename ${from} -> ${to}`;
    }
    if (roll < 67) {
      const path = freshPath();
      fs.mkdirSync(abs(path));
      return `mkdir ${path}`;
    }
    if (roll < 73) {
      const path = rng.pick(files);
      fs.rmSync(abs(path));
      fs.mkdirSync(abs(path));
      fs.writeFileSync(abs(`${path}/inside`), content());
      return `replace file ${path} by a directory`;
    }
    if (roll < 78 && dirs.length > 1) {
      const dir = rng.pick(dirs.slice(1));
      fs.rmSync(abs(dir), { recursive: true });
      fs.writeFileSync(abs(dir), content());
      return `replace directory ${dir} by a file`;
    }
    if (roll < 84) {
      const path = rng.pick(files);
      fs.chmodSync(abs(path), rng.chance(0.5) ? 0o755 : 0o644);
      return `chmod ${path}`;
    }
    if (roll < 88) {
      const path = freshPath();
      fs.symlinkSync(rng.chance(0.5) ? `../${rng.pick(NAMES)}` : `/tmp/elsewhere-${rng.int(9)}`, abs(path));
      return `symlink ${path}`;
    }
    if (roll < 94 && dirs.length > 1) {
      const from = rng.pick(dirs.slice(1));
      const to = freshPath();
      if (to.startsWith(`${from}/`)) return 'nothing';
      fs.renameSync(abs(from), abs(to));
      return `rename directory ${from} -> ${to}`;
    }
    const path = rng.pick(all);
    fs.rmSync(abs(path), { recursive: true });
    return `remove ${path}`;
  } catch (err) {
    // Another operation's path raced this one (a parent just became a file): skip it.
    return `skipped (${(err as Error).message.split('\n')[0]})`;
  }
}

test('random changes on three disk replicas, made while they sync, end in identical trees', { timeout: 600_000 }, async () => {
  const seed = Number(process.env.SEED ?? crypto.randomInt(1, 2 ** 31));
  const replay = `SEED=${seed} node --test out/test/integration/disk-sync.test.js`;
  const cluster = await DiskCluster.create(['alice', 'bob', 'carol']);
  const rng = new Prng(seed);
  const trace: string[] = [];
  try {
    await cluster.linkAll();
    const alice = cluster.member('alice');
    // A large directory to rename later: renames must move, not delete and re-send.
    fs.mkdirSync(nodePath.join(alice.root, 'big'));
    for (let i = 0; i < 400; i++) fs.writeFileSync(nodePath.join(alice.root, 'big', `f${i}.txt`), rng.bytes(rng.range(100, 4_000)));
    await cluster.settle();
    const members = [...cluster.members.values()];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 25; i++) {
        const m = rng.pick(members);
        trace.push(`${m.name}: ${randomOperation(rng, m)}`);
        if (rng.chance(0.3)) await new Promise((r) => setTimeout(r, rng.int(60)));
      }
      if (round === 2) {
        const bob = cluster.member('bob');
        const target = fs.existsSync(nodePath.join(bob.root, 'big')) ? 'big' : undefined;
        if (target) {
          fs.renameSync(nodePath.join(bob.root, target), nodePath.join(bob.root, 'big-renamed'));
          trace.push('bob: rename directory big -> big-renamed (400 files)');
        }
      }
      await cluster.settle(90_000, { confirmMassDeletes: true });
    }
    // A case-only rename, alone, since two people creating `x` and `X` at once is a collision by design.
    const carol = cluster.member('carol');
    fs.writeFileSync(nodePath.join(carol.root, 'casefile.txt'), 'case');
    await cluster.settle();
    fs.renameSync(nodePath.join(carol.root, 'casefile.txt'), nodePath.join(carol.root, 'CaseFile.txt'));
    const tree = await cluster.settle();
    assert.ok(tree.has('CaseFile.txt') && !tree.has('casefile.txt'), 'the case-only rename arrived');
    for (const m of members) assert.deepEqual([...m.disk.replica.errors()], [], `${m.name} reports no errors`);
  } catch (err) {
    (err as Error).message += `\nseed ${seed}; replay: ${replay}\n${trace.join('\n')}`;
    throw err;
  } finally {
    await cluster.close();
  }
});

test('a file larger than 2 GiB, written sparsely, arrives byte for byte and stays sparse', { timeout: 600_000 }, async () => {
  const cluster = await DiskCluster.create(['alice', 'bob']);
  try {
    await cluster.linkAll();
    const alice = cluster.member('alice');
    const bob = cluster.member('bob');
    const size = 2 * 1024 ** 3 + 123_457;
    const abs = nodePath.join(alice.root, 'disk.img');
    const fd = fs.openSync(abs, 'w');
    fs.ftruncateSync(fd, size);
    for (const offset of [0, 1_000_000_007, 2 ** 31 - 5, 2 ** 31 + 99, size - 10])
      fs.writeSync(fd, new Uint8Array(crypto.randomBytes(10)), 0, 10, offset);
    fs.closeSync(fd);
    await cluster.settle(300_000);
    const received = nodePath.join(bob.root, 'disk.img');
    assert.equal(fs.statSync(received).size, size);
    assert.equal(await sha256File(received), await sha256File(abs));
    // Blocks of zeros were never written: the copy takes a small part of its size on disk.
    assert.ok(fs.statSync(received).blocks * 512 < 64 * 1024 * 1024, `allocated ${fs.statSync(received).blocks * 512} bytes`);
  } finally {
    await cluster.close();
  }
});

test(
  '.sharedignore and .git stay local; un-ignoring shares the rest, never .git; ignoring never deletes elsewhere',
  { timeout: 120_000 },
  async () => {
    const cluster = await DiskCluster.create(['alice', 'bob']);
    try {
      await cluster.linkAll();
      const alice = cluster.member('alice');
      const bob = cluster.member('bob');
      const a = (p: string): string => nodePath.join(alice.root, p);
      fs.mkdirSync(a('.git'));
      fs.writeFileSync(a('.git/HEAD'), 'ref: refs/heads/main\n');
      fs.mkdirSync(a('build'));
      fs.writeFileSync(a('build/out.o'), 'object');
      fs.writeFileSync(a('debug.log'), 'log');
      fs.writeFileSync(a('keep.txt'), 'keep');
      fs.writeFileSync(a('.sharedignore'), 'build/\n*.log\n');
      const tree = await cluster.settle();
      assert.deepEqual([...tree.keys()].sort(), ['.sharedignore', 'keep.txt']);
      assert.ok(fs.existsSync(a('.git/HEAD')) && fs.existsSync(a('build/out.o')), 'ignored files stay where they are');

      // Un-ignoring shares build/ and the log; `!.git/` cannot lift the guard on version-control
      // folders (issue 15); ignoring a shared file leaves everyone's copy alone.
      fs.writeFileSync(a('.sharedignore'), 'keep.txt\n!.git/\n');
      const b = (p: string): string => nodePath.join(bob.root, p);
      // settle() would compare whole disks, and alice's .git is hers alone: wait for the files instead.
      await waitFor('bob to see build/out.o and debug.log', () => fs.existsSync(b('build/out.o')) && fs.existsSync(b('debug.log')));
      await sleep(2000);
      assert.equal(fs.readFileSync(b('build/out.o'), 'utf8'), 'object', 'un-ignored files are shared');
      assert.ok(!fs.existsSync(b('.git')), '.git never syncs, whatever .sharedignore says');
      assert.ok(fs.existsSync(nodePath.join(bob.root, 'keep.txt')), 'a newly ignored file is not deleted elsewhere');
    } finally {
      await cluster.close();
    }
  },
);

test('replaced and deleted versions are kept in .shared-folder/versions and pruned after their days', { timeout: 120_000 }, async () => {
  const cluster = await DiskCluster.create(['alice', 'bob']);
  try {
    await cluster.linkAll();
    const alice = cluster.member('alice');
    const bob = cluster.member('bob');
    fs.writeFileSync(nodePath.join(alice.root, 'doc.txt'), 'first');
    await cluster.settle();
    fs.writeFileSync(nodePath.join(alice.root, 'doc.txt'), 'second, longer');
    await cluster.settle();
    fs.rmSync(nodePath.join(alice.root, 'doc.txt'));
    // The folder's only file: alice confirms that emptying the folder is meant.
    await waitFor('alice to ask', () => alice.disk.replica.state() === 'paused');
    await cluster.settle(60_000, { confirmMassDeletes: true });
    const kept = await bob.disk.store.versions.of('doc.txt');
    assert.equal(kept.length, 2, `bob keeps both replaced versions: ${kept.join(', ')}`);
    assert.deepEqual(kept.map((k) => fs.readFileSync(k, 'utf8')).sort(), ['first', 'second, longer']);
    assert.match(nodePath.basename(kept[0]!), /^doc~\d{8}-\d{6}(~\d+)?\.txt$/);
    assert.equal(await bob.disk.store.versions.prune(1), 0, 'fresh versions stay');
    assert.equal(await bob.disk.store.versions.prune(-1), 2, 'versions older than the limit go');
    assert.deepEqual(await bob.disk.store.versions.of('doc.txt'), []);
  } finally {
    await cluster.close();
  }
});

test('a folder whose marker vanished stops instead of deleting; a mass delete pauses and asks', { timeout: 120_000 }, async () => {
  const cluster = await DiskCluster.create(['alice', 'bob']);
  // Files named f…, 30 at the root and 120 in many/, counted wherever they are.
  const count = (root: string): number =>
    fs
      .readdirSync(root, { recursive: true })
      .map(String)
      .filter((p) => !p.startsWith('.shared-folder') && nodePath.basename(p).startsWith('f')).length;
  try {
    await cluster.linkAll();
    const alice = cluster.member('alice');
    const bob = cluster.member('bob');
    fs.mkdirSync(nodePath.join(alice.root, 'many'));
    for (let i = 0; i < 150; i++) fs.writeFileSync(nodePath.join(alice.root, i < 30 ? '' : 'many', `f${i}`), `file ${i}`);
    await cluster.settle();

    // An unmounted disk looks like an empty folder: the replica must stop, not delete everywhere.
    fs.rmSync(bob.root, { recursive: true });
    fs.mkdirSync(bob.root);
    await bob.disk.scan();
    assert.equal(bob.disk.replica.state(), 'stopped');
    assert.ok(bob.events.some((e) => e.kind === 'stopped' && e.reason === 'rootMissing'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(count(alice.root), 150, 'alice lost nothing');

    // The disk comes back: sync resumes.
    fs.rmSync(bob.root, { recursive: true });
    fs.cpSync(alice.root, bob.root, { recursive: true, preserveTimestamps: true });
    fs.rmSync(nodePath.join(bob.root, '.shared-folder', 'versions'), { recursive: true, force: true });
    await bob.disk.scan();
    assert.notEqual(bob.disk.replica.state(), 'stopped');
    await cluster.settle();

    // A mass delete pauses the space and waits for an answer; restore brings the files back. The
    // 120 files go in one rename, so no scan under way can see only some of them gone.
    const aside = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-aside-'));
    fs.renameSync(nodePath.join(bob.root, 'many'), nodePath.join(aside, 'many'));
    await waitFor('bob to pause', () => bob.disk.replica.state() === 'paused');
    assert.ok(bob.events.some((e) => e.kind === 'paused' && e.reason === 'massDelete' && e.deletes === 120));
    assert.equal(count(alice.root), 150, 'nothing was deleted at alice');
    await bob.disk.replica.resolveMassDelete('restore');
    const tree = await cluster.settle();
    assert.equal(
      [...tree.entries()].filter(([p, e]) => e.type === 'file' && nodePath.basename(p).startsWith('f')).length,
      150,
      `restored: ${describe(tree).slice(0, 200)}`,
    );
    fs.rmSync(aside, { recursive: true, force: true });
  } finally {
    await cluster.close();
  }
});

test(
  'a text conflict made apart merges after both replicas restart, its base moved from the old layout into packs and read from them; with damaged packs the copy stays and sync goes on',
  { timeout: 180_000 },
  async () => {
    const cluster = await DiskCluster.create(['alice', 'bob']);
    const BASE = 'one\ntwo\nthree\nfour\nfive\n';
    const at = (m: Member, p: string): string => nodePath.join(m.root, p);
    const baseKept = (m: Member, path: string): boolean => {
      const r = m.disk.replica.record(path);
      return r !== undefined && m.disk.store.bases.has(toHex(r.hash));
    };
    const editApart = async (path: string): Promise<void> => {
      await cluster.unlink('alice', 'bob');
      fs.writeFileSync(at(alice, path), 'one, by alice\ntwo\nthree\nfour\nfive\n');
      await alice.disk.scan();
      await sleep(1100);
      fs.writeFileSync(at(bob, path), 'one\ntwo\nthree\nfour\nfive, by bob\n');
      await bob.disk.scan();
    };
    const alice = cluster.member('alice');
    const bob = cluster.member('bob');
    try {
      await cluster.linkAll();
      // Neighbours of the file in the same chunks: a read must pick its bytes out of theirs.
      fs.mkdirSync(at(alice, 'src'));
      for (let i = 0; i < 60; i++) fs.writeFileSync(at(alice, `src/module${i}.js`), `export const value${i} = ${i};\n`.repeat(200));
      fs.writeFileSync(at(alice, 'notes.txt'), BASE);
      fs.writeFileSync(at(alice, 'other.txt'), BASE);
      await cluster.settle();
      await waitFor('both to keep the bases', () => [alice, bob].every((m) => baseKept(m, 'notes.txt') && baseKept(m, 'other.txt')));
      for (const m of [alice, bob]) {
        const files = fs.readdirSync(nodePath.join(m.stateDir, 'bases'));
        assert.ok(files.length > 0 && files.every((f) => /^\d{6}\.pack$/.test(f)), files.join(', '));
      }

      // As an older version left them, one file per base: they move into packs when the replica opens.
      for (const m of [alice, bob]) {
        const dir = nodePath.join(m.stateDir, 'bases');
        const keys = await m.disk.store.listBases();
        const bytes = await Promise.all(keys.map((k) => m.disk.store.getBase(k)));
        for (const f of fs.readdirSync(dir)) fs.rmSync(nodePath.join(dir, f));
        keys.forEach((k, i) => fs.writeFileSync(nodePath.join(dir, k), bytes[i]!));
        await cluster.restart(m.name);
        assert.ok(
          fs.readdirSync(dir).every((f) => /^\d{6}\.pack$/.test(f)),
          `${m.name}: ${fs.readdirSync(dir).join(', ')}`,
        );
        assert.deepEqual((await m.disk.store.listBases()).sort(), [...keys].sort());
      }

      await editApart('notes.txt');
      await cluster.restart('alice');
      await cluster.restart('bob');
      await cluster.link('alice', 'bob');
      const merged = 'one, by alice\ntwo\nthree\nfour\nfive, by bob\n';
      await waitFor(
        'the merged notes.txt on both',
        () => [alice, bob].every((m) => fs.readFileSync(at(m, 'notes.txt'), 'utf8') === merged),
        60_000,
      );
      await cluster.settle();
      assert.equal(alice.events.filter((e) => e.kind === 'merged').length + bob.events.filter((e) => e.kind === 'merged').length, 1);
      for (const m of [alice, bob]) assert.deepEqual(m.disk.replica.conflicts(), [], m.name);

      // Every chunk of both sides' packs damaged: the merge cannot happen, the conflict copy stays.
      await waitFor('both to keep the merged version as a base', () => [alice, bob].every((m) => baseKept(m, 'notes.txt')));
      for (const m of [alice, bob]) {
        const dir = nodePath.join(m.stateDir, 'bases');
        for (const f of fs.readdirSync(dir)) {
          const bytes = new Uint8Array(fs.readFileSync(nodePath.join(dir, f)));
          for (let i = 200; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
          fs.writeFileSync(nodePath.join(dir, f), bytes);
        }
      }
      await editApart('other.txt');
      await cluster.link('alice', 'bob');
      await cluster.settle();
      for (const m of [alice, bob]) {
        const copies = fs.readdirSync(m.root).filter((n) => n.startsWith('other.conflict-'));
        assert.equal(copies.length, 1, `${m.name}: ${fs.readdirSync(m.root).join(', ')}`);
        assert.equal(m.disk.replica.conflicts().length, 1);
        assert.deepEqual([...m.disk.replica.errors()], [], m.name);
      }
      assert.equal(alice.events.filter((e) => e.kind === 'merged').length + bob.events.filter((e) => e.kind === 'merged').length, 1);
      const texts = [alice, bob].flatMap((m) =>
        fs
          .readdirSync(m.root)
          .filter((n) => n.startsWith('other.'))
          .map((n) => fs.readFileSync(at(m, n), 'utf8')),
      );
      assert.ok(
        texts.includes('one, by alice\ntwo\nthree\nfour\nfive\n') && texts.includes('one\ntwo\nthree\nfour\nfive, by bob\n'),
        'both sides kept',
      );
      // And sync goes on, bases and all.
      fs.writeFileSync(at(bob, 'after.txt'), 'written after the damage\n');
      await cluster.settle();
      assert.equal(fs.readFileSync(at(alice, 'after.txt'), 'utf8'), 'written after the damage\n');
      await waitFor('the new file kept as a base again', () => [alice, bob].every((m) => baseKept(m, 'after.txt')));
    } finally {
      await cluster.close();
    }
  },
);
