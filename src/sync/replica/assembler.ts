import { equalBytes, toHex } from '../util/bytes';
import { isAlive, type FileRecord } from '../model/file-record';
import type { StoreError } from '../ports/ports';
import { printable } from '../util/printable';
import { URGENCY_OPEN, urgencyOfSize } from './block-fetcher';
import { claimedContentProblem } from './claimed-content';
import type { BlockServer } from './block-server';
import { FileAssembly, type WriteBacklog } from './file-assembly';
import type { ReplicaCore } from './replica-core';

/** Block bytes received but not yet written to their temp files, before intake waits for the disk. */
const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;
/** The longest wait before a path that could not be written is tried again. */
const MAX_RETRY_MS = 60_000;

/**
 * The files being put together: local blocks are copied in, the rest requested from peers and
 * written as they arrive. A file whose write failed is dropped and its path waits before it is
 * tried again.
 */
export class Assembler {
  private readonly assemblies = new Map<string, FileAssembly>();
  /** Block key -> paths whose assembly still lacks that block. */
  private readonly waiting = new Map<string, Set<string>>();
  private readonly backlog: WriteBacklog = { bytes: 0 };

  constructor(
    private readonly core: ReplicaCore,
    private readonly blocks: BlockServer,
  ) {}

  get(path: string): FileAssembly | undefined {
    return this.assemblies.get(path);
  }

  has(path: string): boolean {
    return this.assemblies.has(path);
  }

  entries(): IterableIterator<[string, FileAssembly]> {
    return this.assemblies.entries();
  }

  /** Takes a completed file out of the set to install it; its temp file is the installer's now. */
  release(path: string): void {
    this.assemblies.delete(path);
  }

  /**
   * Starts or continues putting a file together: local blocks are copied, the rest requested.
   * Undefined when the record cannot be put together now (it claims content no one could
   * deliver, or more bytes than the disk has free): the path then backs off, as after a failed
   * write, and the other files go on.
   */
  async assemble(path: string, target: FileRecord): Promise<FileAssembly | undefined> {
    let assembly = this.assemblies.get(path);
    if (assembly && !assembly.holds(target)) {
      await this.drop(path);
      assembly = undefined;
    }
    if (!assembly) {
      if (await this.refused(path, target)) return undefined;
      assembly = await FileAssembly.start(this.core.options.store, path, target, this.backlog);
      this.assemblies.set(path, assembly);
      for (const key of assembly.missing.keys()) this.waitFor(key, path);
    }
    for (const [key, slot] of assembly.missing) {
      const data = await this.blocks.readLocal(slot.hash, slot.size);
      if (!data) {
        this.core.fetcher.want(slot.hash, slot.size, this.core.options.isOpen?.(path) ? URGENCY_OPEN : urgencyOfSize(assembly.record.size));
        continue;
      }
      assembly.writeBlock(key, data);
      this.unwait(key, path);
      this.core.fetcher.cancel(slot.hash);
    }
    return assembly;
  }

  /** Writes a fetched block into every file that lacks it; returns the files it completed. */
  async accept(hash: Uint8Array, data: Uint8Array): Promise<string[]> {
    const completed: string[] = [];
    const key = toHex(hash);
    for (const path of [...(this.waiting.get(key) ?? [])]) {
      const assembly = this.assemblies.get(path);
      const slot = assembly?.missing.get(key);
      if (!assembly || !slot) {
        this.unwait(key, path);
        continue;
      }
      if (await this.hasFailed(path, assembly)) continue;
      assembly.writeBlock(key, data);
      this.unwait(key, path);
      if (assembly.missing.size === 0) completed.push(path);
    }
    return completed;
  }

  /** A peer sent other bytes than a block: every file waiting for it says so, and when it is asked for again. */
  misdelivered(hash: Uint8Array, peer: string, mismatches: number, waitMs: number): void {
    for (const path of this.waiting.get(toHex(hash)) ?? []) {
      // A path no longer needed (the user wrote it meanwhile) waits for nothing: no problem to show.
      if (!this.core.neededMap.has(path)) continue;
      this.core.reportProblem(path, {
        code: 'badBlock',
        message: `a block sent by ${printable(peer)} did not match its hash (${mismatches} times); asked again in ${Math.ceil(waitMs / 1000)} s at most`,
        source: 'apply',
      });
    }
  }

  /**
   * Waits for queued block writes once they hold too many bytes: blocks can arrive faster than a
   * disk takes them (from a fast peer or the mail cache), and no new block is asked for meanwhile.
   */
  async letWritesCatchUp(): Promise<void> {
    if (this.backlog.bytes <= MAX_UNWRITTEN_BYTES) return;
    await Promise.all([...this.assemblies.values()].map((a) => a.written()));
  }

  /**
   * Whether an earlier write into this file failed, handled as a failed write (the file waits
   * and is tried again later) so no more of its blocks are fetched meanwhile.
   */
  private async hasFailed(path: string, assembly: FileAssembly): Promise<boolean> {
    const failure = assembly.storeFailure();
    if (failure === undefined) return false;
    await this.writeFailed(path, failure);
    return true;
  }

  /**
   * A write failed for a reason of this disk (full, permission, locked, name too long): the
   * partial file goes, so it frees its space for the rest of the folder, and the path waits.
   */
  async writeFailed(path: string, err: StoreError): Promise<void> {
    await this.drop(path);
    this.backOff(path, err.code, err.message);
  }

  /**
   * Reports why a path cannot be written now and makes it wait before the next try: a full disk,
   * a locked file or a peer's bad record will not change in the next second, so each wait doubles,
   * up to a minute. The problem names the wait, so status shows it.
   */
  backOff(path: string, code: string, message: string): void {
    const { retries } = this.core;
    const first = this.core.options.retryMs ?? 1_000;
    const delayMs = Math.min(MAX_RETRY_MS, retries.has(path) ? retries.get(path)!.delayMs * 2 : first);
    retries.set(path, { at: this.core.now() + delayMs, delayMs });
    this.core.reportProblem(path, { code, message: `${message}; next try in ${Math.ceil(delayMs / 1000)} s`, source: 'apply' });
  }

  /** Whether the record is refused for now: content no peer could deliver, or more than the disk has free. */
  private async refused(path: string, target: FileRecord): Promise<boolean> {
    const { core } = this;
    const sender = core.senders.get(path);
    const from = sender === undefined ? '' : ` (sent by ${printable(sender)})`;
    const problem = claimedContentProblem(target, core.chunking, core.options.hasher);
    if (problem !== undefined) {
      this.backOff(path, 'badRecord', `refused: the version by ${printable(target.modifiedBy)}${from} ${problem}`);
      return true;
    }
    const free = await core.options.store.freeSpace?.();
    if (free !== undefined && target.size > free) {
      this.backOff(
        path,
        'noSpace',
        `waits: the version by ${printable(target.modifiedBy)}${from} takes ${target.size} bytes, the disk has ${free} free`,
      );
      return true;
    }
    return false;
  }

  /** Forgets files no longer wanted (a newer version arrived, or the user wrote the path). */
  async prune(): Promise<void> {
    const { core } = this;
    for (const [path, assembly] of [...this.assemblies]) {
      const target = core.index.get(path);
      const stillWanted =
        core.neededMap.has(path) && isAlive(target) && target.type === 'file' && equalBytes(target.hash, assembly.record.hash);
      if (!stillWanted) await this.drop(path);
    }
    const keep = new Set<string>();
    for (const a of this.assemblies.values()) for (const key of a.missing.keys()) keep.add(key);
    core.fetcher.retain(keep);
  }

  async drop(path: string): Promise<void> {
    const assembly = this.assemblies.get(path);
    if (!assembly) return;
    this.assemblies.delete(path);
    for (const key of assembly.missing.keys()) this.unwait(key, path);
    await assembly.discard(this.core.options.store);
  }

  private waitFor(key: string, path: string): void {
    let paths = this.waiting.get(key);
    if (!paths) this.waiting.set(key, (paths = new Set()));
    paths.add(path);
  }

  private unwait(key: string, path: string): void {
    const paths = this.waiting.get(key);
    if (!paths) return;
    paths.delete(path);
    if (paths.size === 0) this.waiting.delete(key);
  }
}
