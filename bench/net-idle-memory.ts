import * as fs from 'node:fs';
import { sleep, waitFor } from '../test/integration/disk-cluster';
import { NetWorld } from '../test/integration/net-cluster';
import { generate, treeBytes } from './net-data';

/**
 * Memory of idle daemons: alice shares a folder of `files` files with bob, both sync it, then
 * sit idle for `idleSeconds`; the figure is VmRSS of each daemon with every process it started
 * (its threads are in its own VmRSS already).
 */

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The parent is the 2nd field after the command, which is in parentheses and may hold spaces.
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // Gone while we looked.
    }
  }
  const all: number[] = [];
  const visit = (p: number): void => {
    all.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return all;
}

export interface IdleMemory {
  readonly aliceMiB: number;
  readonly bobMiB: number;
  readonly processes: number;
}

export async function idleMemory(files: number, idleSeconds: number): Promise<IdleMemory> {
  const world = new NetWorld();
  try {
    await world.alicesFolderWithBob();
    const bytes = generate(world.folder('a'), files);
    const alice = world.start('alice');
    const bob = world.start('bob');
    await waitFor(
      'bob to have every file',
      () => {
        const t = treeBytes(world.folder('b'));
        return t.files === files && t.bytes === bytes;
      },
      300_000,
    );
    await sleep(idleSeconds * 1000);
    const of = (pid: number): number => processTree(pid).reduce((sum, p) => sum + rssKiB(p), 0) / 1024;
    return { aliceMiB: of(alice.pid!), bobMiB: of(bob.pid!), processes: processTree(alice.pid!).length };
  } finally {
    await world.close();
  }
}
