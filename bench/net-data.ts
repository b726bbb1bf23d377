import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { sleep } from '../test/integration/disk-cluster';

/** Data and timing helpers shared by the network benchmarks. */

export const MIB = 1024 * 1024;

export const rnd = (n: number): Uint8Array => new Uint8Array(crypto.randomBytes(n));

/** The same bytes with one more in the middle. */
export function insertByte(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out.set(data.subarray(0, data.length / 2));
  out[data.length / 2] = 0x42;
  out.set(data.subarray(data.length / 2), data.length / 2 + 1);
  return out;
}

/** Polls every 2 ms: waitFor's 50 ms would add up to 50 ms to every latency sample. */
export async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Save on one side to identical bytes on the other, for a fresh 1 KiB file each time. */
export async function propagation(from: string, to: string, samples: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const content = rnd(1024);
    const name = `latency-${i}.bin`;
    const target = nodePath.join(to, name);
    const t0 = performance.now();
    fs.writeFileSync(nodePath.join(from, name), content);
    await until(
      name,
      () => {
        try {
          return fs.readFileSync(target).equals(content);
        } catch {
          return false;
        }
      },
      60_000,
    );
    latencies.push(performance.now() - t0);
    await sleep(100);
  }
  return latencies;
}

/** Files of 1 to 60 KiB (30 KiB on average), random content, in 100 folders; returns their bytes. */
export function generate(root: string, count: number): number {
  let total = 0;
  let seed = 1;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const size = 1024 + (seed % (59 * 1024));
    const dir = nodePath.join(root, `d${i % 100}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(nodePath.join(dir, `f${i}.bin`), rnd(size));
    total += size;
  }
  return total;
}

/** Files and bytes under `root`, leaving out either tool's own files and temps (which come and go while we look). */
export function treeBytes(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.shared-folder') || e.name.startsWith('.st') || e.name.startsWith('.syncthing')) continue;
      const abs = nodePath.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) {
        const st = fs.statSync(abs, { throwIfNoEntry: false });
        if (!st) continue;
        files++;
        bytes += st.size;
      }
    }
  };
  walk(root);
  return { files, bytes };
}

/** Bytes of everything under `path`: `apparent` its files' sizes (du -sb), `allocated` the disk blocks they take (du -sB1). */
export function duBytes(path: string): { apparent: number; allocated: number } {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (!st) return { apparent: 0, allocated: 0 };
  const own = { apparent: st.isDirectory() ? 0 : st.size, allocated: st.blocks * 512 };
  if (!st.isDirectory()) return own;
  for (const name of fs.readdirSync(path)) {
    const sub = duBytes(nodePath.join(path, name));
    own.apparent += sub.apparent;
    own.allocated += sub.allocated;
  }
  return own;
}
