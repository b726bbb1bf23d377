import { toHex } from '../util/bytes';
import { isAlive } from '../model/file-record';
import { isInternalPath, parentOf } from '../model/path';
import type { ContentDigest, StoreEntry } from '../ports/ports';
import { entryMatches } from './expectation';
import { DEFAULT_MASS_DELETE, isMassDelete, type MassDeleteOptions } from './mass-delete-guard';
import type { Puller } from './puller';
import type { ReplicaCore } from './replica-core';
import type { ScanReport } from './replica-status';
import { hasAncestorIn, inScope } from './scan-scope';
import type { Transaction } from './transaction';
import type { VersionIntegrator } from './version-integrator';

export interface ScanMode {
  /** The user confirmed the deletions a mass delete paused on. */
  readonly confirmDeletes?: boolean;
  /** The user chose to bring back what a mass delete removed. */
  readonly restore?: boolean;
  /** Only these paths, and below them; the whole folder when absent. */
  readonly scope?: readonly string[];
}

/** Looks at the local folder and records, as new versions, what the user changed since the last look. */
export class Scanner {
  private readonly massDelete: MassDeleteOptions;

  constructor(
    private readonly core: ReplicaCore,
    private readonly versions: VersionIntegrator,
    private readonly puller: Puller,
  ) {
    this.massDelete = core.options.massDelete ?? DEFAULT_MASS_DELETE;
  }

  async scan(mode: ScanMode): Promise<ScanReport> {
    const { core } = this;
    if (!(await core.checkRoot())) return { changed: 0, state: core.state() };
    if (core.meta.paused) return { changed: 0, state: core.state() };
    const listed = mode.scope ? await this.listScope(mode.scope) : { entries: await core.options.store.list(), missing: [] };
    const { entries } = listed;
    const scope = mode.scope && (await this.widenToVanishedFolders(mode.scope, listed.missing));
    for (const [path, p] of [...core.problems]) if (p.source === 'local' && inScope(scope, path)) core.problems.delete(path);
    const seen = new Set<string>();
    const present: StoreEntry[] = [];
    for (const entry of entries) {
      if (!core.syncable(entry.path, entry.type, 'local')) continue;
      seen.add(entry.path);
      present.push(entry);
    }
    let changed = 0;
    /** Whether the scan recorded anything at all, a new inode included. */
    let touched = false;
    let tx = core.begin();
    const arrived = new Set<string>();
    // Digest in slices, committing as we go: an interrupted first scan of a large folder keeps
    // what it hashed, and memory holds one slice of digests at a time.
    const slice = 1024;
    for (let i = 0; i < present.length; i += slice) {
      const part = present.slice(i, i + slice);
      const contents = await this.digestChanged(part);
      for (const entry of part) await this.versions.observe(tx, entry.path, entry, contents.get(entry.path));
      if (tx.records.size >= 4 * slice) {
        noteArrivals(tx, arrived);
        changed += tx.records.size;
        touched ||= !tx.isEmpty;
        await core.commit(tx);
        tx = core.begin();
      }
    }
    // A path the user has since chosen to ignore is not deleted: its record stays as it was.
    const gone = this.candidatesForDeletion(scope).filter(
      (path) => !seen.has(path) && !core.ignored(path, core.diskRecord(core, path)!.type),
    );
    if (!mode.confirmDeletes && !mode.restore && gone.length > 0) {
      const liveFiles = core.index.liveFiles;
      // A file whose bytes turned up under another name in the same scan was moved, not deleted:
      // renaming a large folder is not a mass delete.
      noteArrivals(tx, arrived);
      const deletedFiles = gone.filter((p) => {
        const onDisk = core.diskRecord(core, p);
        return onDisk?.type === 'file' && !arrived.has(toHex(onDisk.hash));
      }).length;
      if (isMassDelete(liveFiles, deletedFiles, this.massDelete, this.filesOnDisk())) {
        await core.commit(tx, { paused: true });
        core.emit({ kind: 'paused', reason: 'massDelete', deletes: deletedFiles, liveFiles });
        return { changed: changed + tx.records.size, state: core.state() };
      }
    }
    for (const path of gone) {
      if (mode.restore) {
        const r = tx.record(path);
        if (isAlive(r)) tx.setNeeded({ path });
      } else {
        await this.versions.observe(tx, path, undefined);
      }
    }
    changed += tx.records.size;
    touched ||= !tx.isEmpty;
    await core.commit(tx);
    // A scan that found nothing new (the watcher reporting our own writes, most often) leaves
    // nothing new to apply: the pass over every needed path waits for the next tick.
    if (touched) await this.puller.applyNeeded();
    return { changed, state: core.state() };
  }

  /** Live files the engine believes are on this disk: the index's, less those still to write, plus what waits to be replaced. */
  private filesOnDisk(): number {
    const { core } = this;
    let count = core.index.liveFiles;
    for (const [path, need] of core.neededMap) {
      const r = core.index.get(path);
      if (isAlive(r) && r.type === 'file') count--;
      if (isAlive(need.onDisk) && need.onDisk.type === 'file') count++;
    }
    return count;
  }

  /**
   * The scope of a scan, each missing path widened to the topmost folder around it that vanished,
   * and without paths inside others. A folder moved or deleted whole can reach a scoped scan as
   * some of its files first (a watcher's events of the moment, the engine's own writes among them)
   * and the folder later: scanned apart, each part could stay under the mass-delete guard's share.
   * A vanished folder lists nothing, so widening adds deletion candidates only.
   */
  private async widenToVanishedFolders(scope: readonly string[], missing: readonly string[]): Promise<string[]> {
    const vanished = new Map<string, boolean>();
    const isVanished = async (dir: string): Promise<boolean> => {
      let known = vanished.get(dir);
      if (known === undefined) {
        known = this.core.diskRecord(this.core, dir)?.type === 'directory' && !(await this.core.options.store.stat(dir));
        vanished.set(dir, known);
      }
      return known;
    };
    const widened = new Set(scope);
    for (const path of missing) {
      let top = path;
      for (let dir = parentOf(top); dir !== '' && (await isVanished(dir)); dir = parentOf(dir)) top = dir;
      widened.add(top);
    }
    return [...widened].filter((path) => !hasAncestorIn(widened, path));
  }

  /** The entries at and below each scope path, as the store has them now, and the scope paths it does not have. */
  private async listScope(scope: readonly string[]): Promise<{ entries: StoreEntry[]; missing: string[] }> {
    const { options } = this.core;
    const { store } = options;
    const entries: StoreEntry[] = [];
    const missing: string[] = [];
    for (const path of scope) {
      if (isInternalPath(path)) continue;
      const entry = await store.stat(path);
      if (!entry) missing.push(path);
      if (!entry || options.ignore?.(path, entry.type === 'directory')) continue;
      entries.push(entry);
      if (entry.type === 'directory') entries.push(...(await store.list(path)));
    }
    return { entries, missing };
  }

  /** Paths in scope that the engine believes are on disk. */
  private candidatesForDeletion(scope: readonly string[] | undefined): string[] {
    const { core } = this;
    const out: string[] = [];
    if (!scope) {
      for (const r of core.index.records()) if (core.diskRecord(core, r.path)) out.push(r.path);
      return out;
    }
    const directories = new Set<string>();
    for (const path of scope) {
      const onDisk = core.diskRecord(core, path);
      if (onDisk) out.push(path);
      if (onDisk?.type === 'directory') directories.add(path);
    }
    if (directories.size === 0) return out;
    for (const r of core.index.records()) {
      if (!directories.has(r.path) && hasAncestorIn(directories, r.path) && core.diskRecord(core, r.path)) out.push(r.path);
    }
    return out;
  }

  /** Digests, several at once, the files whose size, mtime or inode differ from what the engine last saw. */
  private async digestChanged(entries: readonly StoreEntry[]): Promise<Map<string, ContentDigest | undefined>> {
    const { core } = this;
    const todo = entries.filter((entry) => {
      if (entry.type !== 'file') return false;
      const expected = core.diskRecord(core, entry.path);
      return !(expected && entryMatches(expected, entry));
    });
    const out = new Map<string, ContentDigest | undefined>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const entry = todo[next++]!;
        out.set(entry.path, await core.digester.digest({ path: entry.path }, entry.size, core.chunking));
      }
    };
    const lanes = Math.min(core.options.scanConcurrency ?? 8, todo.length);
    await Promise.all(Array.from({ length: lanes }, worker));
    return out;
  }
}

/** Content hashes of the live files a scan step recorded. */
function noteArrivals(tx: Transaction, arrived: Set<string>): void {
  for (const r of tx.records.values()) if (isAlive(r) && r.type === 'file') arrived.add(toHex(r.hash));
}
