/**
 * Memory of an idle daemon: alice and bob share a folder of 130 files (1 to 60 KiB) through a
 * server on loopback; once bob holds every file and both daemons have been idle for `--idle`
 * seconds (20), prints each daemon's VmRSS (every thread counted), its thread count and whether
 * it has child processes, read from /proc. Target: at most 60 MiB each.
 *
 * Options: --files N (130), --idle SECONDS (20).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import { NetWorld } from '../test/integration/net-cluster';
import { numberOption } from './bench-args';

const FILES = numberOption('files', 130);
const IDLE_SECONDS = numberOption('idle', 20);
const TARGET_MIB = 60;

function generate(root: string): number {
  let total = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = nodePath.join(root, `d${i % 10}`);
    fs.mkdirSync(dir, { recursive: true });
    const size = 1024 + crypto.randomInt(59 * 1024);
    fs.writeFileSync(nodePath.join(dir, `f${i}.bin`), new Uint8Array(crypto.randomBytes(size)));
    total += size;
  }
  return total;
}

function countFiles(root: string): number {
  let n = 0;
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (e.name === '.shared-folder') continue;
    if (e.isDirectory()) n += countFiles(nodePath.join(root, e.name));
    else if (e.isFile()) n++;
  }
  return n;
}

/** VmRSS and thread count from /proc, and the process's children (from every thread's children list). */
function processFigures(pid: number): { rssMiB: number; threads: number; children: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  const threads = Number(/Threads:\s+(\d+)/.exec(status)![1]);
  let children = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const list = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (list !== '') children += list.split(/\s+/).length;
  }
  return { rssMiB, threads, children };
}

async function main(): Promise<void> {
  const world = new NetWorld();
  try {
    await world.alicesFolderWithBob();
    generate(world.folder('a'));
    const alice = world.start('alice');
    const bob = world.start('bob');
    await waitFor('bob to hold every file', () => countFiles(world.folder('b')) === FILES, 120_000);
    await sleep(IDLE_SECONDS * 1000);
    for (const [who, child] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const f = processFigures(child.pid!);
      console.log(
        `${who}: idle ${IDLE_SECONDS} s with ${FILES} files: VmRSS ${f.rssMiB.toFixed(1)} MiB (target ${TARGET_MIB}), ` +
          `${f.threads} threads, ${f.children} child processes`,
      );
    }
  } finally {
    await world.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
