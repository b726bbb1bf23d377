import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { DiskReplica } from '../../src/node/disk/disk-replica';
import { DiskStore } from '../../src/node/disk/disk-store';
import { ChildLink } from './child-replica';
import { openTestReplica, sha256File, waitFor } from './disk-cluster';

const NOBODY = 65534;

interface Report {
  readonly errors: Array<[string, string, string]>;
  readonly state: string;
  readonly needed: string[];
}

/**
 * Real faults on a real disk: bob's folder is a 4 MiB tmpfs at a path close to PATH_MAX, and bob
 * runs as an unprivileged user with one folder he may not write. Needs root, for mount and chown.
 */
test(
  'a full disk, a folder without write permission and a path too long fail per file; the rest syncs; fixed, they are retried',
  { timeout: 300_000 },
  async () => {
    assert.equal(process.getuid?.(), 0, 'this test mounts a small tmpfs and runs a replica as nobody: it needs root');
    const base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-faults-'));
    fs.chmodSync(base, 0o755);
    // A root folder path long enough that a 250-character relative path crosses PATH_MAX (4096) at bob only.
    let bRoot = nodePath.join(base, 'bob');
    while (bRoot.length < 3_800) bRoot = nodePath.join(bRoot, 'x'.repeat(200));
    fs.mkdirSync(bRoot, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', bRoot]);
    const aRoot = nodePath.join(base, 'alice');
    const link = new ChildLink('bob', 'alice');
    let alice: DiskReplica | undefined;
    try {
      await DiskStore.initFolder(aRoot);
      await DiskStore.initFolder(bRoot);
      fs.mkdirSync(nodePath.join(bRoot, 'locked'));
      for (const p of [base, nodePath.join(base, 'bob')]) fs.chownSync(p, 0, 0);
      execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, bRoot]);
      fs.chownSync(nodePath.join(bRoot, 'locked'), 0, 0);
      const bState = nodePath.join(base, 'bob-state');
      fs.mkdirSync(bState);
      fs.chownSync(bState, NOBODY, NOBODY);

      const a = (p: string): string => nodePath.join(aRoot, p);
      fs.writeFileSync(
        a('big.bin'),
        Buffer.alloc(6 * 1024 * 1024, 7).map((_, i) => (i * 31) & 255),
      );
      fs.mkdirSync(a('locked'));
      fs.writeFileSync(a('locked/secret.txt'), 'cannot land here yet');
      const longDir = a(`${'d'.repeat(150)}/${'e'.repeat(150)}`);
      fs.mkdirSync(longDir, { recursive: true });
      fs.writeFileSync(nodePath.join(longDir, 'long-name.txt'), 'too long for bob');
      for (let i = 0; i < 20; i++) fs.writeFileSync(a(`small-${i}.txt`), `small file ${i}`);

      alice = await openTestReplica(aRoot, nodePath.join(base, 'alice-state'), 'alice', link.port);
      await alice.start();
      let report: Report | undefined;
      const child = await link.start(
        alice,
        bRoot,
        bState,
        (m) => {
          if (m.errors) report = m as Report;
        },
        { uid: NOBODY, gid: NOBODY },
      );
      const ask = async (): Promise<Report> => {
        report = undefined;
        child.send({ report: true });
        await waitFor('bob to report', () => report !== undefined, 10_000);
        return report!;
      };
      const codes = (r: Report): string[] => r.errors.map(([path, code]) => `${path.slice(0, 40)}:${code}`).sort();

      let seen = '';
      await waitFor(
        'the three faults to be reported while the rest arrives',
        async () => {
          const r = await ask();
          const small = fs.readdirSync(bRoot).filter((n) => n.startsWith('small-')).length;
          seen = `${small} small files; bob ${r.state}, errors ${JSON.stringify(r.errors)}, needed ${r.needed.join(', ').slice(0, 300)}`;
          return small === 20 && r.errors.length === 3;
        },
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${seen}`);
      });
      const r = await ask();
      assert.deepEqual(codes(r), ['big.bin:noSpace', `${'d'.repeat(40)}:nameTooLong`, 'locked/secret.txt:permission'].sort());
      for (const [path, , message] of r.errors) {
        // A file bigger than the free space is not even started (issue 15): the check before the
        // write names both sizes; a disk that fills while writing says ENOSPC.
        if (path === 'big.bin') assert.match(message, /(the disk has \d+ free|the disk is full \(ENOSPC\)); next try in \d+ s$/);
        else assert.match(message, /: (permission denied|the path is too long for this file system) \(E[A-Z]+\); next try in \d+ s$/);
      }
      assert.ok(!fs.existsSync(nodePath.join(bRoot, 'big.bin')), 'no partial big.bin is visible');
      assert.ok(!fs.existsSync(nodePath.join(bRoot, 'locked', 'secret.txt')));

      // The user frees space, fixes the permission and shortens the name: each is retried and arrives.
      execFileSync('mount', ['-o', 'remount,size=32m', bRoot]);
      fs.chownSync(nodePath.join(bRoot, 'locked'), NOBODY, NOBODY);
      fs.renameSync(nodePath.join(longDir, 'long-name.txt'), a('long-name.txt'));
      fs.rmSync(a('d'.repeat(150)), { recursive: true });
      await waitFor(
        'every file to arrive and every error to clear',
        async () => {
          const now = await ask();
          return now.errors.length === 0 && now.needed.length === 0 && fs.existsSync(nodePath.join(bRoot, 'long-name.txt'));
        },
        120_000,
      );
      assert.equal(await sha256File(nodePath.join(bRoot, 'big.bin')), await sha256File(a('big.bin')));
      assert.equal(fs.readFileSync(nodePath.join(bRoot, 'locked', 'secret.txt'), 'utf8'), 'cannot land here yet');
    } finally {
      link.process?.kill('SIGKILL');
      await alice?.close();
      await new Promise((r) => setTimeout(r, 200));
      execFileSync('umount', ['-l', bRoot]);
      fs.rmSync(base, { recursive: true, force: true });
    }
  },
);
