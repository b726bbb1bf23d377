import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHasher } from '../src/node/workers/node-hasher';
import { chunkBoundaries, DEFAULT_CHUNKING } from '../src/sync/model/chunker';
import { blocksOf, BlockHasher } from '../src/sync/model/content-hash';
import { measureEdit, pseudoRandom } from './engine-transfer';

/**
 * `npm run bench:engine`: chunking and hashing throughput next to `sha256sum` on the same bytes,
 * and the bytes the engine moves for a one-byte change in a 100 MiB file. MB = 10^6 bytes.
 */

const SIZE = 256 * 1024 * 1024;
const RUNS = 3;

function best(run: () => void): number {
  let fastest = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    run();
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return fastest;
}

function mbps(bytes: number, seconds: number): string {
  return (bytes / 1e6 / seconds).toFixed(0).padStart(6);
}

function throughput(data: Uint8Array, file: string): void {
  const hasher = new NodeHasher();
  const chunkOnly = best(() => chunkBoundaries(data, DEFAULT_CHUNKING));
  const shaOnly = best(() => hasher.sha256(data));
  const chunkAndHash = best(() => blocksOf(data, hasher, DEFAULT_CHUNKING));
  const streamed = best(() => {
    const fd = openSync(file, 'r');
    const piece = new Uint8Array(4 * 1024 * 1024);
    const bh = new BlockHasher(hasher, DEFAULT_CHUNKING);
    for (;;) {
      const n = readSync(fd, piece, 0, piece.length, null);
      if (n === 0) break;
      bh.push(piece.subarray(0, n));
    }
    bh.finish();
    closeSync(fd);
  });
  const sha256sum = best(() => execFileSync('sha256sum', [file]));
  console.log(`Throughput on ${SIZE / 1024 / 1024} MiB of pseudo-random data (best of ${RUNS}; MB = 10^6 bytes)`);
  console.log(`  chunking only (FastCDC, 32 KiB avg)       ${mbps(SIZE, chunkOnly)} MB/s`);
  console.log(`  SHA-256 only (node:crypto)                ${mbps(SIZE, shaOnly)} MB/s`);
  console.log(`  chunking + SHA-256 per block (in memory)  ${mbps(SIZE, chunkAndHash)} MB/s`);
  console.log(`  read file + chunk + hash (streaming)      ${mbps(SIZE, streamed)} MB/s`);
  console.log(`  sha256sum (coreutils) on the same file    ${mbps(SIZE, sha256sum)} MB/s`);
  console.log(`  ratio engine MB/s ÷ sha256sum MB/s     ${(sha256sum / streamed).toFixed(2)} (above 1: the engine is faster)`);
}

async function transfer(): Promise<void> {
  const fileBytes = 100 * 1024 * 1024;
  console.log(`\nBytes moved between two replicas after a 1-byte change in a ${fileBytes / 1024 / 1024} MiB file (real codec)`);
  for (const edit of ['overwrite', 'insert'] as const) {
    const f = await measureEdit(edit, fileBytes);
    const pct = ((f.wireBytes / f.fileBytes) * 100).toFixed(3);
    console.log(
      `  ${f.edit.padEnd(18)} ${String(f.wireBytes).padStart(9)} bytes on the wire (${pct}% of the file), ` +
        `${f.blockBytes} of them block data, ${f.messages} messages`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-bench-'));
  try {
    const data = pseudoRandom(SIZE, 0x9e3779b9);
    const file = join(dir, 'data.bin');
    writeFileSync(file, data);
    throughput(data, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await transfer();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
