import { toHex } from '../util/bytes';
import { isAlive, type FileRecord } from '../model/file-record';
import { depth } from '../model/path';
import { merge } from '../model/version-vector';
import type { BlockResponse } from '../protocol/messages';
import type { Assembler } from './assembler';
import type { ConflictMerger } from './conflict-merger';
import { INSTALL_BATCH, type Installer } from './installer';
import type { ReplicaCore } from './replica-core';
import type { VersionIntegrator } from './version-integrator';

/**
 * Brings the disk in line with the index: passes over every needed path, the files whose blocks
 * arrived at the end of a burst of steps, versions that waited for bytes, and blocks nobody has.
 */
export class Puller {
  /** Files whose last missing block arrived: applied once per burst of steps, not once per block. */
  private readonly arrived = new Set<string>();

  constructor(
    private readonly core: ReplicaCore,
    private readonly versions: VersionIntegrator,
    private readonly assembler: Assembler,
    private readonly installer: Installer,
    private readonly merger: ConflictMerger,
  ) {}

  /** Whether files completed in this burst still wait to be applied and installed. */
  get hasArrivals(): boolean {
    return this.arrived.size > 0 || this.installer.hasCompleted;
  }

  /** Brings the disk in line with the index, as far as blocks at hand allow. */
  async applyNeeded(): Promise<void> {
    const { core } = this;
    await this.assembler.prune();
    if (core.stopped || core.meta.paused) return this.requestBlocks();
    if (core.neededMap.size > 0) {
      if (!(await core.checkRoot())) return;
      for (let pass = 0; pass < 64; pass++) {
        let progress = false;
        const now = core.now();
        for (const path of this.applyOrder()) {
          if (!core.neededMap.has(path) || (core.retries.get(path)?.at ?? 0) > now) continue;
          if ((await this.installer.applyOne(path)) === 'done') progress = true;
        }
        if (!progress || core.neededMap.size === 0) break;
      }
    }
    await this.merger.mergeConflicts();
    await this.retryDeferred();
    this.requestBlocks();
  }

  async receiveBlock(peer: string, response: BlockResponse): Promise<void> {
    const answer = this.core.fetcher.accept(peer, response);
    if (answer?.kind === 'mismatch') this.assembler.misdelivered(answer.hash, peer, answer.mismatches, answer.waitMs);
    const completed = answer?.kind === 'block' ? await this.assembler.accept(answer.hash, answer.data) : [];
    // Only the files blocks completed are written then: a pass over every needed path per block
    // made a first sync of n files cost n squared. The tick's full pass does the rest.
    for (const path of completed) this.arrived.add(path);
    await this.assembler.letWritesCatchUp();
    if (this.arrived.size >= INSTALL_BATCH) await this.applyArrived();
    this.requestBlocks();
  }

  /** Applies the files whose blocks arrived, and installs every completed file. */
  async applyArrived(): Promise<void> {
    const { core } = this;
    const paths = [...this.arrived];
    this.arrived.clear();
    if (core.stopped || core.meta.paused || !(await core.checkRoot())) return;
    const now = core.now();
    for (const path of paths) {
      if (core.neededMap.has(path) && (core.retries.get(path)?.at ?? 0) <= now) await this.installer.applyOne(path);
    }
    await this.installer.installCompleted();
    await this.merger.mergeConflicts();
    // Versions waiting for bytes this disk now holds.
    await this.retryDeferred();
  }

  /**
   * A version whose bytes no replica has any more cannot be written. What this disk holds at
   * the path then stands, as a new version that supersedes the unobtainable one everywhere.
   */
  async giveUpUnobtainable(): Promise<void> {
    const { core, versions } = this;
    const gone = new Set(core.fetcher.unobtainable([...core.positions.keys()], [...core.sessions.keys()]).map(toHex));
    if (gone.size === 0) return;
    const tx = core.begin();
    for (const [path, assembly] of this.assembler.entries()) {
      if (![...assembly.missing.keys()].some((k) => gone.has(k))) continue;
      const target = tx.record(path)!;
      const onDisk = tx.needed(path)?.onDisk;
      const standing: FileRecord = onDisk
        ? { ...onDisk, version: versions.issueVersion(tx, merge(target.version, onDisk.version)), modifiedBy: core.options.user }
        : versions.bareVersion(tx, path, target.type, true, target.version);
      versions.place(tx, standing, onDisk, true);
      core.emit({ kind: 'unobtainable', path });
    }
    await core.commit(tx);
  }

  /** Re-judges peer versions that waited for bytes this disk now has (or no longer needs). */
  private async retryDeferred(): Promise<void> {
    const { core } = this;
    if (core.deferredMap.size === 0) return;
    const tx = core.begin();
    for (const [path, waiting] of [...core.deferredMap]) {
      tx.clearDeferred(path);
      for (const record of waiting) this.versions.integrate(tx, record, core.diskRecord(tx, path));
    }
    const unchanged =
      tx.records.size === 0 &&
      [...tx.deferredChanges].every(([path, list]) => {
        const before = core.deferredMap.get(path);
        return list !== null && before !== undefined && list.length === before.length && list.every((r, i) => r === before[i]);
      });
    if (!unchanged) await core.commit(tx);
  }

  /** Removals deepest first (children before parents), then creations shallowest first. */
  private applyOrder(): string[] {
    const { core } = this;
    const removals: string[] = [];
    const creations: string[] = [];
    for (const [path, need] of core.neededMap) {
      const target = core.index.get(path);
      const clears = need.onDisk && (!isAlive(target) || target.type !== need.onDisk.type);
      (clears ? removals : creations).push(path);
    }
    removals.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
    creations.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
    return [...removals, ...creations];
  }

  private requestBlocks(): void {
    this.core.fetcher.request([...this.core.sessions.keys()].sort(), this.core.now());
  }
}
