import { Worker } from 'node:worker_threads';

/**
 * A decoder that never returns blocks the fuzzing thread, so a second thread watches a counter
 * the fuzzer bumps after every input. If it stops moving for `limitMs`, the watchdog prints what
 * was running (with its replay command) and ends the process.
 */
export class HangWatchdog {
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;

  constructor(limitMs: number) {
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const progress = new Int32Array(workerData.buffer);
      let context = '';
      parentPort.on('message', (m) => { context = m; });
      let last = -1;
      let still = Date.now();
      setInterval(() => {
        const now = Atomics.load(progress, 0);
        if (now !== last) { last = now; still = Date.now(); return; }
        if (context !== '' && Date.now() - still > workerData.limitMs) {
          process.stderr.write('\\nHANG: no input finished in ' + workerData.limitMs + ' ms. ' + context + '\\n');
          process.kill(process.pid, 'SIGKILL');
        }
      }, 250).unref();`;
    this.worker = new Worker(source, { eval: true, workerData: { buffer: this.progress.buffer, limitMs } });
    this.worker.unref();
  }

  /** What to print if the next inputs hang: the target and its replay command. */
  watch(context: string): void {
    this.worker.postMessage(context);
  }

  tick(): void {
    Atomics.add(this.progress, 0, 1);
  }

  stop(): void {
    void this.worker.terminate();
  }
}
