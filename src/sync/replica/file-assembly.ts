import { equalBytes, toHex } from '../util/bytes';
import { blockOffsets, type FileRecord } from '../model/file-record';
import { StoreError, type FileStore, type TempFile } from '../ports/ports';
import { SerialQueue } from '../util/serial-queue';

/** Where a missing block goes: every offset in the file that holds it. */
export interface MissingBlock {
  readonly hash: Uint8Array;
  readonly size: number;
  readonly offsets: number[];
}

/** Bytes handed to temp files and not written yet, across every file being assembled. */
export interface WriteBacklog {
  bytes: number;
}

/** A file being put together from local and remote blocks in a temp file. */
export class FileAssembly {
  /** Block hash -> offsets in the file that still lack it. */
  readonly missing = new Map<string, MissingBlock>();
  /**
   * The writes of blocks at hand, one after another, while the engine goes on: a step need not
   * wait for the disk to take a block. Awaited before the file is sealed or discarded.
   */
  private readonly writes = new SerialQueue();
  /** What the first failed write threw; the file is then written off (or the error rethrown, if it is not the store's). */
  private firstFailure: unknown;
  /** Set when a block holds a NUL byte: no text, so no merge base to read it back for. */
  private sawNul = false;

  private constructor(
    readonly record: FileRecord,
    readonly temp: TempFile,
    private readonly backlog: WriteBacklog,
  ) {
    const offsets = blockOffsets(record.blocks);
    record.blocks.forEach((b, i) => {
      const key = toHex(b.hash);
      const slot = this.missing.get(key) ?? { hash: b.hash, size: b.size, offsets: [] };
      slot.offsets.push(offsets[i]!);
      this.missing.set(key, slot);
    });
  }

  /** Opens a temp file for `record`'s content at `path`; every block is missing yet. */
  static async start(store: FileStore, path: string, record: FileRecord, backlog: WriteBacklog): Promise<FileAssembly> {
    return new FileAssembly(record, await store.createTemp(path, record.size), backlog);
  }

  /** What the first failed write threw, if one did. */
  get failure(): unknown {
    return this.firstFailure;
  }

  get binary(): boolean {
    return this.sawNul;
  }

  /** Whether it is being put together with the content `target` has. */
  holds(target: FileRecord): boolean {
    return equalBytes(this.record.hash, target.hash) && this.record.size === target.size;
  }

  /** Queues the block's writes at every offset that lacks it; a failure is kept for whoever looks next. */
  writeBlock(key: string, data: Uint8Array): void {
    const slot = this.missing.get(key);
    if (!slot) return;
    this.missing.delete(key);
    if (!this.sawNul && data.includes(0)) this.sawNul = true;
    this.backlog.bytes += data.length;
    void this.writes.run(async () => {
      try {
        if (this.firstFailure !== undefined) return;
        for (const offset of slot.offsets) await this.temp.write(offset, data);
      } catch (err) {
        this.firstFailure = err;
      } finally {
        this.backlog.bytes -= data.length;
      }
    });
  }

  /**
   * The store's error if an earlier write into this file failed; an error that is not the
   * store's is thrown.
   */
  storeFailure(): StoreError | undefined {
    const failure = this.firstFailure;
    if (failure === undefined) return undefined;
    if (!(failure instanceof StoreError)) throw failure;
    return failure;
  }

  /** Resolves once every queued write has finished. */
  written(): Promise<void> {
    return this.writes.idle();
  }

  /** Waits for queued writes, then discards the temp file. */
  async discard(store: FileStore): Promise<void> {
    await this.written();
    await store.discardTemp(this.temp);
  }
}
