import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { DiskStore, MARKER_DIR } from '../../src/node/disk/disk-store';
import { Prng } from '../sim/prng';
import { ChildLink } from './child-replica';
import { openTestReplica, sha256File, sleep, snapshotTree, waitFor } from './disk-cluster';

const KILLS = Number(process.env.KILLS ?? 50);

/** Every file visible in the folder must be a whole version someone wrote: never a torn one. */
async function assertOnlyWholeFiles(root: string, written: ReadonlySet<string>, when: string): Promise<void> {
  const tree = await snapshotTree(root);
  for (const [path, entry] of tree) {
    if (entry.type !== 'file') continue;
    assert.ok(written.has(entry.sha256), `${when}: ${path} (${entry.size} bytes) is not any version that was written`);
  }
}

test(
  `a replica killed with SIGKILL at ${KILLS} random moments of a large sync converges and loses nothing`,
  { timeout: 900_000 },
  async () => {
    const seed = Number(process.env.SEED ?? crypto.randomInt(1, 2 ** 31));
    const rng = new Prng(seed);
    const base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-crash-'));
    const aRoot = nodePath.join(base, 'alice');
    const bRoot = nodePath.join(base, 'bob');
    await DiskStore.initFolder(aRoot);
    await DiskStore.initFolder(bRoot);
    const written = new Set<string>();
    const acked = new Map<string, string>();
    const link = new ChildLink('bob', 'alice');
    const alice = await openTestReplica(aRoot, nodePath.join(base, 'alice-state'), 'alice', link.port);

    const writeAtAlice = (path: string, data: Uint8Array): void => {
      fs.mkdirSync(nodePath.dirname(nodePath.join(aRoot, path)), { recursive: true });
      fs.writeFileSync(nodePath.join(aRoot, path), data);
      written.add(crypto.createHash('sha256').update(data).digest('hex'));
    };
    const startBob = (): Promise<ChildProcess> =>
      link.start(alice, bRoot, nodePath.join(base, 'bob-state'), (m) => {
        if (m.ack) acked.set(m.ack, '');
      });

    try {
      await alice.start();
      // The large change: many small files, some large ones, in nested folders.
      for (let i = 0; i < 300; i++) writeAtAlice(`set/d${i % 7}/f${i}.txt`, rng.bytes(rng.range(0, 20_000)));
      for (let i = 0; i < 4; i++) writeAtAlice(`set/large${i}.bin`, rng.bytes(rng.range(3_000_000, 6_000_000)));
      await alice.scan();

      let kills = 0;
      for (; kills < KILLS; kills++) {
        const c = await startBob();
        // Bob's own edits, acknowledged once committed: none may be lost by the kill that follows.
        const local = `bob-${kills}.txt`;
        const data = rng.bytes(rng.range(1, 3_000));
        written.add(crypto.createHash('sha256').update(data).digest('hex'));
        acked.set(local, 'pending');
        c.send({ write: local, data });
        // Alice keeps changing things, so there is always something in flight.
        if (rng.chance(0.5)) {
          writeAtAlice(`set/d${rng.int(7)}/f${rng.int(300)}.txt`, rng.bytes(rng.range(0, 20_000)));
          await alice.scan();
        }
        await sleep(rng.range(20, 900));
        await link.kill(alice);
        if (acked.get(local) === 'pending') acked.delete(local);
        await assertOnlyWholeFiles(bRoot, written, `after kill ${kills + 1} (seed ${seed})`);
      }

      await startBob();
      await waitFor(
        'both folders to be identical',
        async () => {
          const [a, b] = await Promise.all([snapshotTree(aRoot), snapshotTree(bRoot)]);
          return a.size > 0 && JSON.stringify([...a]) === JSON.stringify([...b]);
        },
        180_000,
      );
      const tree = await snapshotTree(aRoot);
      assert.ok(acked.size > KILLS / 4, `enough of bob's edits were acknowledged before a kill (${acked.size})`);
      for (const name of acked.keys()) assert.ok(tree.has(name), `bob's acknowledged ${name} reached alice (seed ${seed})`);
      for (let i = 0; i < 4; i++) {
        assert.equal(
          await sha256File(nodePath.join(bRoot, `set/large${i}.bin`)),
          await sha256File(nodePath.join(aRoot, `set/large${i}.bin`)),
        );
      }
      const tmp = nodePath.join(bRoot, MARKER_DIR, 'tmp');
      assert.ok(!fs.existsSync(tmp) || fs.readdirSync(tmp).length === 0, 'no temp files are left once bob is idle');
    } catch (err) {
      (err as Error).message += `\nseed ${seed}; replay: SEED=${seed} node --test out/test/integration/crash.test.js`;
      throw err;
    } finally {
      link.process?.kill('SIGKILL');
      await alice.close();
      fs.rmSync(base, { recursive: true, force: true });
    }
  },
);
