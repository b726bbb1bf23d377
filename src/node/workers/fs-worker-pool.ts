/**
 * src/node/workers/: worker threads that walk trees and hash files (fs-worker.ts, started by this
 * pool; in the bundle, dist/fs-worker.js next to the engine host), the Hasher and Digester the
 * engine uses on Node, and thread-pool.ts, which sizes libuv's thread pool before anything loads.
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 */
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FsReplyMessage, FsRequest, FsResult } from './fs-worker-protocol';

interface PendingRequest {
  readonly resolve: (result: FsResult) => void;
  readonly reject: (err: Error) => void;
}

interface Lane {
  worker: Worker;
  readonly pending: Map<number, PendingRequest>;
  /** Ends the worker once it has had nothing to do for the pool's idle time. */
  idleTimer?: ReturnType<typeof setTimeout>;
  /** Ended for idleness: its exit is not a failure, and it is not started again. */
  retired?: boolean;
}

/** How long a worker with nothing to do is kept: each one holds a V8 isolate of its own. */
export const WORKER_IDLE_MS = 10_000;

/** An error a worker reported, with the errno code it carried. */
export class FsWorkerError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'FsWorkerError';
  }
}

/**
 * Worker threads that walk trees and hash files, so neither a large scan nor a large file keeps
 * the thread that runs the engine (or the editor's extension host) from answering. Workers start
 * when work comes and end after `idleMs` without any: an idle daemon holds none.
 */
export class FsWorkerPool {
  private readonly lanes: Lane[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly size = Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length)),
    private readonly script = nodePath.join(__dirname, 'fs-worker.js'),
    private readonly idleMs = WORKER_IDLE_MS,
  ) {}

  /** Workers running now. */
  get workers(): number {
    return this.lanes.length;
  }

  run(request: FsRequest): Promise<FsResult> {
    if (this.closed) return Promise.reject(new Error('the file system worker pool is closed'));
    const lane = this.quietestLane();
    clearTimeout(lane.idleTimer);
    const id = this.nextId++;
    return new Promise<FsResult>((resolve, reject) => {
      lane.pending.set(id, { resolve, reject });
      // Only while a reply is awaited may the worker keep the process alive.
      lane.worker.ref();
      lane.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes) clearTimeout(lane.idleTimer);
    await Promise.all(this.lanes.map((lane) => lane.worker.terminate()));
    this.lanes.length = 0;
  }

  private quietestLane(): Lane {
    if (this.lanes.length < this.size && this.lanes.every((l) => l.pending.size > 0)) return this.spawn();
    return this.lanes.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  private spawn(): Lane {
    const lane: Lane = { worker: undefined as unknown as Worker, pending: new Map() };
    this.start(lane);
    this.lanes.push(lane);
    return lane;
  }

  private start(lane: Lane): void {
    const worker = new Worker(this.script);
    lane.worker = worker;
    worker.unref();
    worker.on('message', (reply: FsReplyMessage) => {
      const pending = lane.pending.get(reply.id);
      if (!pending) return;
      lane.pending.delete(reply.id);
      if (lane.pending.size === 0) {
        worker.unref();
        lane.idleTimer = setTimeout(() => this.retire(lane), this.idleMs);
        lane.idleTimer.unref();
      }
      if ('error' in reply) pending.reject(new FsWorkerError(reply.error.message, reply.error.code));
      else pending.resolve(reply.result);
    });
    const fail = (err: Error): void => {
      for (const p of lane.pending.values()) p.reject(err);
      lane.pending.clear();
      if (!this.closed && !lane.retired && lane.worker === worker) this.start(lane);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed && !lane.retired) fail(new Error(`file system worker exited with code ${code}`));
    });
  }

  /** Ends a worker that has had nothing to do; the next request starts a fresh one. */
  private retire(lane: Lane): void {
    if (this.closed || lane.pending.size > 0) return;
    lane.retired = true;
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    void lane.worker.terminate();
  }
}
