import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { BasePacks } from '../../src/node/disk/bases/base-packs';
import { Prng } from '../sim/prng';
import { sleep, waitFor } from './disk-cluster';

const CHILD = nodePath.join(__dirname, 'fixtures', 'base-packs-child.js');
const KILLS = Number(process.env.KILLS ?? 30);

test(
  `merge-base packs killed with SIGKILL at ${KILLS} random moments of writing and compacting: every kept base reads back whole`,
  { timeout: 600_000 },
  async () => {
    const seed = Number(process.env.SEED ?? crypto.randomInt(1, 2 ** 31));
    const rng = new Prng(seed);
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-base-crash-'));
    /** Bases the child said it kept and did not drop since: each must survive the kill. */
    const acked = new Set<string>();
    let compactions = 0;
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const child = fork(CHILD, ['--base-packs-child', dir, String(seed + kill)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
        let ready = false;
        child.on('message', (m: { ready?: boolean; kept?: string[]; dropping?: string[] }) => {
          if (m.ready) ready = true;
          for (const h of m.kept ?? []) acked.add(h);
          for (const h of m.dropping ?? []) acked.delete(h);
        });
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        await waitFor('the child to open its packs', () => ready || child.exitCode !== null, 30_000);
        assert.equal(child.exitCode, null, 'the child opened the packs the last one left');
        await sleep(rng.range(5, 400));
        child.kill('SIGKILL');
        await exited;

        const before = fs.readdirSync(dir);
        if (before.some((n) => n.endsWith('.tmp'))) compactions++;
        const packs = await BasePacks.open(dir);
        assert.deepEqual(
          fs.readdirSync(dir).filter((n) => !/^\d{6}\.pack$/.test(n)),
          [],
          `kill ${kill}: only packs stay (was ${before.join(', ')})`,
        );
        const listed = new Set(packs.list());
        for (const h of acked) assert.ok(listed.has(h), `kill ${kill}: a base kept before the kill is gone`);
        for (const h of listed) {
          const data = await packs.get(h);
          assert.ok(data !== undefined, `kill ${kill}: a listed base cannot be read`);
          assert.equal(crypto.createHash('sha256').update(data).digest('hex'), h, `kill ${kill}: a base came back with other bytes`);
        }
        // As the engine does after a start: what is not needed is dropped again, and compacted.
        await packs.drop([...listed].filter((h) => !acked.has(h)));
        await packs.idle();
        const usage = packs.usage();
        assert.ok(usage.deadBytes * 2 <= usage.bytes, `kill ${kill}: ${JSON.stringify(usage)}`);
      }
      console.log(`${KILLS} kills, ${acked.size} bases kept at the end, ${compactions} kills left a compaction's temp file`);
    } catch (err) {
      console.log(`seed ${seed}: replay with SEED=${seed} node --test ${__filename}`);
      throw err;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
