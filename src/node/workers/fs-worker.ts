import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ChunkingParams } from '../../sync/model/chunker';
import { BlockHasher } from '../../sync/model/content-hash';
import type { ContentDigest } from '../../sync/ports/ports';
import { failureOf, type DigestJob, type FsReplyMessage, type FsRequest, type FsRequestMessage, type FsResult } from './fs-worker-protocol';
import { IgnoreRules } from '../disk/ignore-rules';
import { NodeHasher } from './node-hasher';
import { sealFile } from './seal-file';
import { placeNewFiles } from './place-new-files';
import { walkTree } from '../disk/tree-walk';

const PIECE_BYTES = 4 * 1024 * 1024;
const hasher = new NodeHasher();
const piece = new Uint8Array(PIECE_BYTES);
let rules = new IgnoreRules('');

function digestFile(job: DigestJob, chunking: ChunkingParams): ContentDigest | null {
  if (job.data !== undefined) {
    if (job.data.length !== job.size) return null;
    const blockHasher = new BlockHasher(hasher, chunking);
    blockHasher.push(job.data);
    return blockHasher.finish();
  }
  let fd: number;
  try {
    fd = fs.openSync(job.abs, 'r');
  } catch {
    return null;
  }
  try {
    const before = fs.fstatSync(fd, { bigint: true });
    if (Number(before.size) !== job.size) return null;
    const blockHasher = new BlockHasher(hasher, chunking);
    for (let offset = 0; offset < job.size;) {
      const n = fs.readSync(fd, piece, 0, Math.min(PIECE_BYTES, job.size - offset), offset);
      if (n === 0) return null;
      blockHasher.push(piece.subarray(0, n));
      offset += n;
    }
    const after = fs.fstatSync(fd, { bigint: true });
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs) return null;
    return blockHasher.finish();
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

async function run(request: FsRequest): Promise<FsResult> {
  switch (request.kind) {
    case 'seal':
      // All at once: their waits for the disk overlap in libuv's thread pool.
      return {
        kind: 'seal',
        files: await Promise.all(request.files.map((job) => sealFile(job).catch((err: unknown) => ({ failure: failureOf(err) })))),
      };
    case 'place':
      return { kind: 'place', files: await placeNewFiles(request.root, request.files) };
    case 'walk':
      if (rules.text !== request.ignoreText) rules = new IgnoreRules(request.ignoreText);
      return { kind: 'walk', entries: walkTree(request.root, request.under, rules) };
    case 'digest':
      return { kind: 'digest', digests: request.files.map((job) => digestFile(job, request.chunking)) };
  }
}

parentPort?.on('message', ({ id, request }: FsRequestMessage) => {
  void run(request)
    .then(
      (result): FsReplyMessage => ({ id, result }),
      (err: unknown): FsReplyMessage => ({ id, error: failureOf(err) }),
    )
    .then((reply) => parentPort!.postMessage(reply));
});
