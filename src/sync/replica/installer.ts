import { equalBytes } from '../util/bytes';
import { conflictCopyRecord } from '../model/conflict';
import { isAlive, type FileRecord } from '../model/file-record';
import { isAncestor, parentOf } from '../model/path';
import { EMPTY_VECTOR } from '../model/version-vector';
import { StoreError, type StoreEntry } from '../ports/ports';
import type { Assembler } from './assembler';
import { expectationFor } from './expectation';
import type { FileAssembly } from './file-assembly';
import { inLanes } from './lanes';
import type { MergeBases } from './merge-bases';
import type { ReplicaCore } from './replica-core';
import type { VersionIntegrator } from './version-integrator';

/** Whether a path's needed version is on disk now, or has to wait (for blocks, a parent, a retry). */
export type Outcome = 'done' | 'wait';

/** Files installed in one step at most: one journal commit and one sync per folder for all of them. */
export const INSTALL_BATCH = 64;
/** Big completed files verified and sealed at once, off the queue: their waits for the disk overlap. */
const INSTALL_LANES = 8;
/**
 * Completed files at least this big are sealed and verified off the replica's queue: reading one
 * back takes long enough (about 90 s for 16 GiB) to hold up every other step of the space.
 */
export const VERIFY_ASIDE_BYTES = 4 * 2 ** 20;

/** Queues a step in the replica's queue: the end of every burst of steps installs completed files. */
export type Wake = () => void;

/** A file whose every block is in its temp file, waiting to be installed with others. */
interface CompletedFile {
  readonly assembly: FileAssembly;
  /** The record and the disk state it was judged against; if either changed since, it is judged again. */
  readonly target: FileRecord;
  readonly onDisk: FileRecord | undefined;
}

/**
 * Writes one needed version to disk: removes, moves, creates directories and symlinks, and puts
 * files together; completed files are installed together, a batch at a time.
 */
export class Installer {
  /** Completed files not installed yet: held while more steps wait, so that a burst installs together. */
  private readonly completed = new Map<string, CompletedFile>();
  /** Big completed files handed to verification off the queue; their paths wait until judged again. */
  private readonly aside = new Map<string, CompletedFile>();
  /** Big files waiting for a lane, in the order they completed. */
  private readonly asideBacklog: string[] = [];
  private asideRunning = 0;
  /** Big files verified off the queue (with the error if they failed), to be judged again and installed. */
  private readonly verified = new Map<string, StoreError | undefined>();

  constructor(
    private readonly core: ReplicaCore,
    private readonly versions: VersionIntegrator,
    private readonly assembler: Assembler,
    private readonly bases: MergeBases,
    private readonly wake: Wake,
  ) {}

  get hasCompleted(): boolean {
    return this.completed.size > 0 || this.verified.size > 0;
  }

  async applyOne(path: string): Promise<Outcome> {
    try {
      const outcome = await this.applyPath(path);
      if (outcome === 'done') {
        this.core.retries.delete(path);
        if (this.core.problems.get(path)?.source === 'apply') this.core.problems.delete(path);
      }
      return outcome;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      await this.assembler.drop(path);
      if (err.code === 'changed') {
        // The user changed the path while we meant to write it: record their version first.
        const tx = this.core.begin();
        await this.versions.observe(tx, path, await this.core.options.store.stat(path));
        await this.core.commit(tx);
        return 'wait';
      }
      await this.assembler.writeFailed(path, err);
      return 'wait';
    }
  }

  private async applyPath(path: string): Promise<Outcome> {
    // Its file is being verified off the queue; it is judged again once that is done.
    if (this.aside.has(path)) return 'wait';
    const { core, versions } = this;
    const target = core.index.get(path)!;
    let onDisk = core.neededMap.get(path)!.onDisk;
    const { store } = core.options;

    if (onDisk && (target.deleted || onDisk.type !== target.type)) {
      if (onDisk.type === 'directory') {
        if (this.hasNeededBelow(path)) return 'wait';
        if (core.index.liveDescendants(path).length > 0) return this.keepDirectory(path, target);
        await store.remove(path, { kind: 'directory' });
      } else if (!(await this.moveToWhereNeeded(onDisk))) {
        await store.remove(path, expectationFor(onDisk));
      }
      onDisk = undefined;
      const tx = core.begin();
      versions.place(tx, target, undefined, false);
      await core.commit(tx);
      if (target.deleted) return 'done';
    }
    if (target.deleted) return this.resolved(path);

    if ((await this.ensureParent(path)) === 'wait') return 'wait';
    const collision = core.index.caseCollision(path);
    if (collision !== undefined && core.diskRecord(core, collision)) {
      core.reportProblem(path, { code: 'caseCollision', message: `differs only in case from ${collision}`, source: 'apply' });
      return 'wait';
    }
    const meta = { mtime: target.mtime, executable: target.executable };
    switch (target.type) {
      case 'directory':
        if (onDisk?.type !== 'directory') await store.mkdir(path, expectationFor(onDisk));
        return this.resolved(path);
      case 'symlink':
        await store.symlink(path, target.target, expectationFor(onDisk), meta);
        return this.resolved(path);
      case 'file':
        if (onDisk?.type === 'file' && equalBytes(onDisk.hash, target.hash) && onDisk.size === target.size) {
          return this.resolved(path, await store.setMeta(path, expectationFor(onDisk), meta));
        }
        if (onDisk && (await this.moveToWhereNeeded(onDisk))) {
          const tx = core.begin();
          versions.place(tx, target, undefined, false);
          await core.commit(tx);
          onDisk = undefined;
        }
        return this.writeFile(path, target, onDisk);
    }
  }

  /** The disk now holds the record's version; `written` is what the store reported after the write. */
  private async resolved(path: string, written?: StoreEntry): Promise<Outcome> {
    const tx = this.core.begin();
    tx.clearNeeded(path);
    if (written) this.versions.noteInode(tx, path, written.inode);
    await this.core.commit(tx);
    return 'done';
  }

  private hasNeededBelow(path: string): boolean {
    for (const p of this.core.neededMap.keys()) if (isAncestor(path, p)) return true;
    return false;
  }

  /**
   * A directory that must go (deleted, or replaced by a file) still holds live entries the other
   * side did not know about: keep it, as a new version, and keep the other side's file as a copy.
   */
  private async keepDirectory(path: string, target: FileRecord): Promise<Outcome> {
    const { core, versions } = this;
    const tx = core.begin();
    const dir = versions.directoryRecord(tx, path, target.version);
    versions.place(tx, dir, core.diskRecord(tx, path), true);
    if (isAlive(target)) {
      const copy = conflictCopyRecord(target);
      versions.integrate(tx, copy, core.diskRecord(tx, copy.path));
    }
    await core.commit(tx);
    return 'done';
  }

  /**
   * A live entry needs its parent to be a directory. If the index says the parent is gone or is a
   * file (an edit inside a folder someone else deleted or replaced), the folder comes back as a
   * new version and a file in its place survives as a conflict copy.
   */
  private async ensureParent(path: string): Promise<'ok' | 'wait'> {
    const { core, versions } = this;
    const parent = parentOf(path);
    if (parent === '') return 'ok';
    if (core.diskRecord(core, parent)?.type === 'directory') return 'ok';
    const record = core.index.get(parent);
    if (isAlive(record) && record.type === 'directory') return 'wait';
    const tx = core.begin();
    if (isAlive(record)) {
      const copy = conflictCopyRecord(record);
      versions.integrate(tx, copy, core.diskRecord(tx, copy.path));
    }
    versions.place(tx, versions.directoryRecord(tx, parent, record?.version ?? EMPTY_VECTOR), core.diskRecord(tx, parent), true);
    await core.commit(tx);
    return 'wait';
  }

  /**
   * Before a file is replaced or removed, moves it to where the index wants the same content
   * (a rename, or a conflict copy): a move keeps the bytes without reading or sending them.
   */
  private async moveToWhereNeeded(onDisk: FileRecord): Promise<boolean> {
    const { core } = this;
    if (onDisk.type !== 'file') return false;
    for (const [path, need] of core.neededMap) {
      // A file already put together is installed as it is: taking its place would undo that work.
      if (path === onDisk.path || need.onDisk || this.completed.has(path) || this.aside.has(path)) continue;
      const wanted = core.index.get(path);
      if (!isAlive(wanted) || wanted.type !== 'file' || !equalBytes(wanted.hash, onDisk.hash)) continue;
      if (core.diskRecord(core, parentOf(path))?.type !== 'directory' && parentOf(path) !== '') continue;
      if (this.assembler.has(path)) await this.assembler.drop(path);
      await core.options.store.rename(onDisk.path, path, expectationFor(onDisk));
      const moved: FileRecord = { ...onDisk, path };
      const tx = core.begin();
      this.versions.place(tx, wanted, moved, false);
      await core.commit(tx);
      // The move kept the old mtime; the next pass sets the wanted metadata if it differs.
      return true;
    }
    return false;
  }

  /**
   * A file whose blocks are all at hand joins the completed files, installed together at the
   * end of the burst of steps (or once a batch is full); it is 'done' only then.
   */
  private async writeFile(path: string, target: FileRecord, onDisk: FileRecord | undefined): Promise<Outcome> {
    const assembly = await this.assembler.assemble(path, target);
    if (!assembly || assembly.missing.size > 0) return 'wait';
    const collision = this.core.index.caseCollision(path);
    if (collision !== undefined && this.aside.has(collision)) return 'wait';
    if (collision !== undefined && this.completed.has(collision)) {
      // Names that differ only in case are judged against the disk as it is, never installed
      // together: the other goes first, this one is judged again in the next pass.
      await this.installCompleted();
      return 'wait';
    }
    this.completed.set(path, { assembly, target, onDisk });
    if (this.completed.size >= INSTALL_BATCH) await this.installCompleted();
    return 'wait';
  }

  /**
   * Installs the completed files: each is sealed (made durable) and verified, several at once,
   * then renamed into place, each only if its path still holds what the engine expects; the
   * folders are synced, and one commit records them all. Nothing is recorded as written before
   * its rename is durable. Big files are sealed and verified off the queue (`setAside`) and
   * installed by a later call, once verified, if they are still what the engine expects.
   */
  async installCompleted(): Promise<void> {
    const { core } = this;
    if (core.stopped || core.meta.paused || !(await core.checkRoot())) return;
    const batch: { path: string; file: CompletedFile }[] = [];
    for (const [path, file] of this.completed) {
      this.completed.delete(path);
      // Judged against a state that has changed since (a newer version, a local edit seen by a
      // scan, a move): the next pass over needed paths judges it again.
      if (!this.stillWanted(path, file) || this.assembler.get(path) !== file.assembly) continue;
      this.assembler.release(path);
      if (file.target.size >= VERIFY_ASIDE_BYTES) this.setAside(path, file);
      else batch.push({ path, file });
    }
    const { store } = core.options;
    const failed = new Map<string, StoreError>();
    const stale: CompletedFile[] = [];
    for (const [path, error] of this.verified) {
      const file = this.aside.get(path)!;
      this.verified.delete(path);
      this.aside.delete(path);
      if (!this.stillWanted(path, file)) stale.push(file);
      else {
        batch.push({ path, file });
        if (error) failed.set(path, error);
      }
    }
    for (const file of stale) await store.discardTemp(file.assembly.temp);
    if (batch.length === 0) return;
    const small = batch.filter(({ path, file }) => !failed.has(path) && file.target.size < VERIFY_ASIDE_BYTES);
    // Every small file of the batch at once: a store may seal them together (one message to a
    // worker for all of them, DiskStore), and their waits for the disk overlap.
    await inLanes(small, INSTALL_BATCH, async ({ path, file }) => {
      const error = await this.sealAndVerify(path, file);
      if (error) failed.set(path, error);
    });
    const ready = batch.filter(({ path }) => !failed.has(path));
    const results = await store.commitTemps(
      ready.map(({ path, file }) => ({
        temp: file.assembly.temp,
        path,
        expect: expectationFor(file.onDisk),
        meta: { mtime: file.target.mtime, executable: file.target.executable },
      })),
    );
    const tx = core.begin();
    results.forEach((result, i) => {
      const { path } = ready[i]!;
      if (result instanceof StoreError) {
        failed.set(path, result);
        return;
      }
      tx.clearNeeded(path);
      this.versions.noteInode(tx, path, result.inode);
    });
    await core.commit(tx);
    for (const { path, file } of ready) {
      if (failed.has(path)) continue;
      core.retries.delete(path);
      // MergeBases.keep would read it back only to find the NUL byte its blocks showed already.
      if (file.assembly.binary) this.bases.skip(path);
    }
    for (const { path, file } of batch) {
      const err = failed.get(path);
      if (!err) continue;
      await store.discardTemp(file.assembly.temp);
      await this.installFailed(path, err);
    }
  }

  /** Whether the file was judged against the state as it still is. */
  private stillWanted(path: string, file: CompletedFile): boolean {
    const need = this.core.neededMap.get(path);
    return need !== undefined && need.onDisk === file.onDisk && this.core.index.get(path) === file.target;
  }

  /**
   * Seals and verifies a big file off the queue, at most INSTALL_LANES at once, so that every
   * other step of the space goes on meanwhile; once done, a step in the queue installs it.
   */
  private setAside(path: string, file: CompletedFile): void {
    this.aside.set(path, file);
    this.asideBacklog.push(path);
    this.startAside();
  }

  private startAside(): void {
    while (this.asideRunning < INSTALL_LANES && this.asideBacklog.length > 0) {
      const path = this.asideBacklog.shift()!;
      this.asideRunning++;
      void this.sealAndVerify(path, this.aside.get(path)!)
        // Off the queue no caller would see it: it fails the file, which is fetched again after a wait.
        .catch((err: unknown) => new StoreError('io', path, `verifying the assembled file failed: ${errorText(err)}`))
        .then((error) => {
          this.asideRunning--;
          this.verified.set(path, error);
          this.startAside();
          this.wake();
        });
    }
  }

  /** Makes a completed file durable and reads it back: the error if it is not the version's content. */
  private async sealAndVerify(path: string, file: CompletedFile): Promise<StoreError | undefined> {
    const { core } = this;
    const { temp } = file.assembly;
    try {
      await file.assembly.written();
      if (file.assembly.failure !== undefined) throw file.assembly.failure;
      await core.options.store.sealTemp(temp, { mtime: file.target.mtime, executable: file.target.executable });
      // Every block was checked on arrival; reading the whole file back also catches a store
      // that wrote something else than it was given.
      const check = await core.digester.digest({ temp }, file.target.size, core.chunking);
      if (!check || !equalBytes(check.hash, file.target.hash)) {
        return new StoreError('io', path, `the assembled file did not match its content hash; it will be fetched again`);
      }
      return undefined;
    } catch (err) {
      if (err instanceof StoreError) return err;
      throw err;
    }
  }

  /** As for any write that failed: a user's edit that raced us is recorded first; anything else waits and is retried. */
  private async installFailed(path: string, err: StoreError): Promise<void> {
    if (err.code === 'changed') {
      const tx = this.core.begin();
      await this.versions.observe(tx, path, await this.core.options.store.stat(path));
      await this.core.commit(tx);
      return;
    }
    await this.assembler.writeFailed(path, err);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
