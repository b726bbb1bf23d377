import type { FsWorkerPool } from './fs-worker-pool';
import type { FsFailure, SealedFile, SealJob } from './fs-worker-protocol';

interface Queued {
  readonly job: SealJob;
  readonly resolve: (result: SealedFile | FsFailure) => void;
  readonly reject: (err: Error) => void;
}

const BATCH_FILES = 64;
const BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Writes and seals new files whole in the worker pool (seal-file.ts). Files asked for in the same
 * turn of the event loop travel together: a batch of small files costs the engine's thread one
 * message, where writing them itself cost about seven file system calls each.
 */
export class BatchSealer {
  private queue: Queued[] = [];
  private flushScheduled = false;

  constructor(private readonly pool: FsWorkerPool) {}

  /** The sealed file's stats, or why it could not be written. */
  seal(job: SealJob): Promise<SealedFile | FsFailure> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    let batch: Queued[] = [];
    let bytes = 0;
    for (const item of queue) {
      if (batch.length > 0 && (batch.length >= BATCH_FILES || bytes + item.job.data.length > BATCH_BYTES)) {
        this.send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.job.data.length;
    }
    if (batch.length > 0) this.send(batch);
  }

  private send(batch: readonly Queued[]): void {
    this.pool.run({ kind: 'seal', files: batch.map((q) => q.job) }).then(
      (result) => {
        if (result.kind !== 'seal') throw new Error('file system worker answered a seal with ' + result.kind);
        batch.forEach((q, i) => {
          const file = result.files[i]!;
          q.resolve('failure' in file ? file.failure : file);
        });
      },
      (err: Error) => batch.forEach((q) => q.reject(err)),
    );
  }
}
