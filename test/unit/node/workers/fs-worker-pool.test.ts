import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { FsWorkerPool } from '../../../../src/node/workers/fs-worker-pool';

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a worker with nothing to do ends after the idle time, and the next request starts another', async () => {
  const root = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-pool-'));
  fs.writeFileSync(nodePath.join(root, 'a.txt'), 'a');
  const pool = new FsWorkerPool(2, undefined, 200);
  try {
    assert.equal(pool.workers, 0, 'no worker before any work');
    const first = await pool.run({ kind: 'walk', root, under: '', ignoreText: '' });
    assert.equal(first.kind, 'walk');
    assert.equal(pool.workers, 1);
    await until('the idle worker to end', () => pool.workers === 0, 5_000);
    const second = await pool.run({ kind: 'walk', root, under: '', ignoreText: '' });
    assert.deepEqual(second, first, 'a fresh worker answers as the first did');
    assert.equal(pool.workers, 1);
  } finally {
    await pool.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
