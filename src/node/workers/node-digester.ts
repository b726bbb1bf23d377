import type { ChunkingParams } from '../../sync/model/chunker';
import type { ContentDigest, Digester, DigestSource } from '../../sync/ports/ports';
import type { DigestJob } from './fs-worker-protocol';
import type { FsWorkerPool } from './fs-worker-pool';

interface Queued {
  readonly job: DigestJob;
  readonly resolve: (digest: ContentDigest | undefined) => void;
  readonly reject: (err: Error) => void;
}

const BATCH_FILES = 64;
const BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Hashes files in the worker pool. Requests made in the same turn of the event loop travel in
 * batches, so a scan of many small files pays one message per batch, not one per file.
 */
export class NodeDigester implements Digester {
  private queue: Queued[] = [];
  private queuedChunking: ChunkingParams | undefined;
  private flushScheduled = false;

  constructor(
    private readonly pool: FsWorkerPool,
    /** Where the source's bytes are: its file, or the bytes themselves where the store holds them. */
    private readonly jobFor: (source: DigestSource, size: number) => DigestJob,
  ) {}

  digest(source: DigestSource, size: number, chunking: ChunkingParams): Promise<ContentDigest | undefined> {
    if (this.queuedChunking && !sameChunking(this.queuedChunking, chunking)) this.flush();
    this.queuedChunking = chunking;
    return new Promise((resolve, reject) => {
      this.queue.push({ job: this.jobFor(source, size), resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    const chunking = this.queuedChunking!;
    this.queue = [];
    let batch: Queued[] = [];
    let bytes = 0;
    for (const item of queue) {
      if (batch.length > 0 && (batch.length >= BATCH_FILES || bytes + item.job.size > BATCH_BYTES)) {
        this.send(batch, chunking);
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.job.size;
    }
    if (batch.length > 0) this.send(batch, chunking);
  }

  private send(batch: readonly Queued[], chunking: ChunkingParams): void {
    this.pool.run({ kind: 'digest', files: batch.map((q) => q.job), chunking }).then(
      (result) => {
        if (result.kind !== 'digest') throw new Error('file system worker answered a digest with ' + result.kind);
        batch.forEach((q, i) => q.resolve(result.digests[i] ?? undefined));
      },
      (err: Error) => batch.forEach((q) => q.reject(err)),
    );
  }
}

function sameChunking(a: ChunkingParams, b: ChunkingParams): boolean {
  return a.minSize === b.minSize && a.avgSize === b.avgSize && a.maxSize === b.maxSize;
}
