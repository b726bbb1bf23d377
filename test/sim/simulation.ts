import { createHash } from 'node:crypto';
import { NodeHasher } from '../../src/node/workers/node-hasher';
import { equalBytes } from '../../src/sync/util/bytes';
import { sameRecord, type FileRecord } from '../../src/sync/model/file-record';
import type { ChunkingParams } from '../../src/sync/model/chunker';
import { decodeMessage, encodeMessage } from '../../src/sync/protocol/codec';
import { Replica } from '../../src/sync/replica/replica';
import type { ReplicaEvent } from '../../src/sync/replica/replica-events';
import { ForeignSpaceError } from '../../src/sync/replica/root-identity';
import { CrashSwitch, SimulatedCrash } from './crash-switch';
import { MemoryStateStore } from './memory-state-store';
import { MemoryStore } from './memory-store';
import { Prng } from './prng';
import { SimNetwork } from './sim-network';
import { SimTime, SkewedClock } from './sim-clock';

/** Small chunks, so that files of a few KiB already span several blocks. */
export const SIM_CHUNKING: ChunkingParams = { minSize: 64, avgSize: 256, maxSize: 1024 };

export interface SimOptions {
  readonly seed: number;
  readonly steps?: number;
  readonly trace?: (line: string) => void;
}

export interface SimOutcome {
  readonly seed: number;
  readonly replicas: number;
  readonly steps: number;
  readonly settleRounds: number;
  readonly conflicts: number;
  /** Conflicts settled by a three-way merge. */
  readonly merges: number;
  readonly crashes: number;
  /** Folders swapped under a replica: fresh, its own earlier one, a copy of another replica's, another space's. */
  readonly folderOps: number;
  /** Scans that paused on deletes, each answered with restore or delete. */
  readonly pauses: number;
  readonly messages: number;
}

export class SimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(`seed ${seed}: ${message}`);
    this.name = 'SimFailure';
  }
}

/** The space every simulated replica belongs to. */
const SPACE = 'sim-space';

interface Node {
  readonly name: string;
  readonly user: string;
  /** The folder the replica syncs now; the agent may point it at another (see `folderOp`). */
  store: MemoryStore;
  /** Folders this replica synced before, still on the disk with their markers. */
  readonly past: MemoryStore[];
  /** Re-roots the replica reported since its folder last changed. */
  reRoots: string[];
  readonly state: MemoryStateStore;
  readonly crash: CrashSwitch;
  readonly clock: SkewedClock;
  replica: Replica;
  conflicts: number;
  merges: number;
  /** Paths the user touched since the last scan: what a file watcher would report. */
  readonly touched: Set<string>;
}

const hasher = new NodeHasher();
const NAMES = ['a', 'b', 'c', 'd', 'notes.txt', 'x.md', 'y.bin', 'z'];
const MAX_SETTLE_ROUNDS = 300;
const MAX_DELIVERIES_PER_ROUND = 20_000;

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * One seeded run: replicas edit, crash, lose state and drift apart under a hostile network; then
 * the network heals and everything must converge with nothing lost.
 */
export class Simulation {
  private readonly rng: Prng;
  private readonly time = new SimTime();
  private readonly net: SimNetwork;
  private readonly nodes: Node[] = [];
  private readonly written = new Set<string>();
  private readonly discarded = new Set<string>();
  private writeCounter = 0;
  private crashes = 0;
  private folderOps = 0;
  private pauses = 0;

  constructor(private readonly options: SimOptions) {
    this.rng = new Prng(options.seed);
    this.net = new SimNetwork({
      transform: (m) => decodeMessage(encodeMessage(m)),
      sizeOf: (m) => encodeMessage(m).length,
    });
  }

  private trace(line: string): void {
    this.options.trace?.(`[t=${this.time.now()}] ${line}`);
  }

  async run(): Promise<SimOutcome> {
    const count = 2 + this.rng.int(4);
    for (let i = 0; i < count; i++) await this.addNode(i);
    for (const a of this.nodes) for (const b of this.nodes) if (a !== b) await this.guard(a, () => a.replica.peerUp(b.name));
    this.net.faults = { drop: this.rng.chance(0.5) ? 0.05 : 0, duplicate: this.rng.chance(0.5) ? 0.05 : 0 };
    const steps = this.options.steps ?? 150;
    for (let step = 0; step < steps; step++) await this.randomStep();
    const settleRounds = await this.settle();
    this.check();
    return {
      seed: this.options.seed,
      replicas: count,
      steps,
      settleRounds,
      conflicts: this.nodes.reduce((n, x) => n + x.conflicts, 0),
      merges: this.nodes.reduce((n, x) => n + x.merges, 0),
      crashes: this.crashes,
      folderOps: this.folderOps,
      pauses: this.pauses,
      messages: this.net.delivered,
    };
  }

  private async addNode(i: number): Promise<void> {
    const crash = new CrashSwitch();
    const name = `r${i}`;
    const skew = this.rng.range(-300_000, 300_000);
    const node: Node = {
      name,
      user: `user${i}`,
      crash,
      store: new MemoryStore(crash),
      past: [],
      reRoots: [],
      state: new MemoryStateStore(crash),
      clock: new SkewedClock(this.time, skew),
      replica: undefined as unknown as Replica,
      conflicts: 0,
      merges: 0,
      touched: new Set(),
    };
    node.replica = await this.openReplica(node);
    this.nodes.push(node);
  }

  private openReplica(node: Node): Promise<Replica> {
    return Replica.open({
      user: node.user,
      space: SPACE,
      store: node.store,
      state: node.state,
      port: this.net.port(node.name),
      clock: node.clock,
      random: this.rng.fork(),
      hasher,
      chunking: SIM_CHUNKING,
      maxRequestsInFlight: 8,
      onEvent: (e: ReplicaEvent) => {
        if (e.kind === 'conflict' && e.copyPath) node.conflicts++;
        if (e.kind === 'merged') {
          // A merged version must survive like any the users wrote: as a file, a copy or in the versions folder.
          node.merges++;
          this.record(node.store.readUser(e.path)!);
          this.trace(`${node.name} merged ${e.copyPath} into ${e.path}`);
        } else if (e.kind === 'reRooted') {
          node.reRoots.push(e.reason);
          this.trace(`${node.name} event reRooted (${e.reason})`);
        } else if (e.kind === 'paused') {
          this.pauses++;
          this.trace(`${node.name} event paused (${e.deletes} of ${e.liveFiles} files)`);
        } else if (e.kind !== 'conflict') this.trace(`${node.name} event ${e.kind}`);
      },
    });
  }

  /** Runs an engine call; a simulated crash restarts the node from its durable state. */
  private async guard(node: Node, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
      await this.restart(node, false);
    }
  }

  private async restart(node: Node, loseState: boolean): Promise<void> {
    this.crashes++;
    this.trace(`${node.name} crash${loseState ? ' with state loss' : ''}`);
    node.crash.reset();
    node.store.dropTemps();
    if (loseState) node.state.wipe();
    await this.reopen(node, () => this.openReplica(node));
  }

  /** The replica closed and opened again (`open` makes it), its links back up: what a restart or a new path does. */
  private async reopen(node: Node, open: () => Promise<Replica>): Promise<void> {
    this.net.dropAllTo(node.name);
    node.replica = await open();
    for (const other of this.nodes) {
      if (other === node || !this.net.connected(node.name, other.name)) continue;
      await this.guard(other, () => other.replica.peerDown(node.name));
      await this.guard(other, () => other.replica.peerUp(node.name));
      await this.guard(node, () => node.replica.peerUp(other.name));
    }
  }

  private async randomStep(): Promise<void> {
    this.time.advance(this.rng.range(10, 3_000));
    const node = this.rng.pick(this.nodes);
    if (node.replica.state() === 'paused' && this.rng.chance(0.5)) return this.answerPause(node);
    const roll = this.rng.int(100);
    if (roll < 35) return this.userOp(node);
    if (roll < 50) return this.guard(node, () => node.replica.scan());
    if (roll < 80) return this.deliver(1 + this.rng.int(8));
    if (roll < 88) return this.guard(node, () => node.replica.tick());
    if (roll < 92) return this.changeLinks();
    if (roll < 96) return this.crashMidStep(node);
    if (roll < 98) return this.restart(node, this.rng.chance(0.3));
    return this.folderOp(node);
  }

  /** The user answers a paused replica's question, whichever way. */
  private async answerPause(node: Node): Promise<void> {
    const choice = this.rng.chance(0.5) ? 'restore' : 'delete';
    this.trace(`${node.name} user answers the pause: ${choice}`);
    await this.guard(node, () => node.replica.resolveMassDelete(choice));
  }

  private async deliver(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const d = this.net.deliverOne(this.rng);
      if (!d) return;
      const to = this.nodes.find((x) => x.name === d.to)!;
      await this.guard(to, () => to.replica.receive(d.from, d.message));
    }
  }

  private async crashMidStep(node: Node): Promise<void> {
    node.crash.armAfter(1 + this.rng.int(40));
    const roll = this.rng.int(3);
    if (roll === 0) await this.guard(node, () => node.replica.scan());
    else if (roll === 1) await this.guard(node, () => node.replica.tick());
    else await this.deliver(5);
    if (node.crash.armed || node.crash.hasTripped) {
      // The step finished before the crash point, or the crash came in work it left running (a
      // block written while the engine goes on): crash now, between steps.
      node.crash.reset();
      await this.restart(node, false);
    }
  }

  private async changeLinks(): Promise<void> {
    const a = this.rng.pick(this.nodes);
    const b = this.rng.pick(this.nodes);
    if (a === b) return;
    const up = !this.net.connected(a.name, b.name);
    await this.setLink(a, b, up);
  }

  private async setLink(a: Node, b: Node, up: boolean): Promise<void> {
    if (this.net.connected(a.name, b.name) === up) return;
    this.trace(`link ${a.name}-${b.name} ${up ? 'up' : 'down'}`);
    this.net.setLink(a.name, b.name, up);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      await this.guard(x, () => (up ? x.replica.peerUp(y.name) : x.replica.peerDown(y.name)));
    }
  }

  // ---- what people do -----------------------------------------------------------------------

  private newContent(): Uint8Array {
    const big = this.rng.chance(0.1);
    const size = big ? this.rng.range(1_000, 12_000) : this.rng.int(300);
    const head = new TextEncoder().encode(`${this.options.seed}:${this.writeCounter++}:`);
    const body = this.rng.chance(0.5) ? this.rng.bytes(size) : new TextEncoder().encode('line\n'.repeat(Math.ceil(size / 5)));
    const data = new Uint8Array(head.length + body.length);
    data.set(head);
    data.set(body, head.length);
    return data;
  }

  private record(data: Uint8Array): void {
    this.written.add(sha(data));
  }

  private discard(contents: readonly Uint8Array[] | false): boolean {
    if (contents === false) return false;
    for (const c of contents) this.discarded.add(sha(c));
    return true;
  }

  private randomDir(store: MemoryStore): string {
    const dirs = store
      .snapshot()
      .filter((e) => e.type === 'directory')
      .map((e) => e.path);
    return this.rng.chance(0.5) || dirs.length === 0 ? '' : this.rng.pick(dirs);
  }

  private randomPath(store: MemoryStore): string {
    const dir = this.randomDir(store);
    const name = this.rng.pick(NAMES);
    return dir === '' ? name : `${dir}/${name}`;
  }

  private async userOp(node: Node): Promise<void> {
    const { store } = node;
    const mtime = node.clock.now();
    const entries = store.snapshot();
    const files = entries.filter((e) => e.type === 'file').map((e) => e.path);
    const any = entries.map((e) => e.path);
    const roll = this.rng.int(100);
    let what = '';
    if (roll < 25 || files.length === 0) {
      const path = this.randomPath(store);
      const data = this.newContent();
      if (this.discard(store.userWrite(path, data, mtime))) {
        this.record(data);
        what = `write ${path} (${data.length} bytes)`;
        node.touched.add(path);
      }
    } else if (roll < 33) {
      const path = this.rng.pick(files);
      const data = this.newContent();
      if (this.discard(store.userWrite(path, data, mtime))) {
        this.record(data);
        what = `overwrite ${path}`;
        node.touched.add(path);
      }
    } else if (roll < 40) {
      // One line of a text file: what replicas that edit apart can merge.
      const path = this.rng.pick(files);
      const lines = textLines(store.readUser(path));
      if (lines && lines.length > 0) {
        const at = this.rng.int(lines.length);
        lines[at] = `${this.options.seed}:${this.writeCounter++}:edited\n`;
        const data = new TextEncoder().encode(lines.join(''));
        if (this.discard(store.userWrite(path, data, mtime))) {
          this.record(data);
          what = `edit line ${at} of ${path}`;
          node.touched.add(path);
        }
      }
    } else if (roll < 50) {
      const path = this.rng.pick(files);
      const old = store.readUser(path);
      if (old) {
        const extra = this.newContent();
        const data = new Uint8Array(old.length + extra.length);
        data.set(old);
        data.set(extra, old.length);
        if (this.discard(store.userWrite(path, data, mtime))) {
          this.record(data);
          what = `append ${path}`;
          node.touched.add(path);
        }
      }
    } else if (roll < 57) {
      const path = this.rng.pick(files);
      const old = store.readUser(path);
      if (old) {
        const data = old.slice(0, this.rng.int(old.length + 1));
        if (this.discard(store.userWrite(path, data, mtime))) {
          this.record(data);
          what = `truncate ${path} to ${data.length}`;
          node.touched.add(path);
        }
      }
    } else if (roll < 67) {
      const path = this.rng.pick(any);
      if (this.discard(store.userDelete(path))) what = `delete ${path}`;
      node.touched.add(path);
    } else if (roll < 79) {
      const from = this.rng.pick(any);
      const to = this.randomPath(store);
      if (this.discard(store.userRename(from, to))) what = `rename ${from} -> ${to}`;
      node.touched.add(from).add(to);
    } else if (roll < 89) {
      const path = this.randomPath(store);
      if (this.discard(store.userMkdir(path, mtime))) what = `mkdir ${path}`;
      node.touched.add(path);
    } else if (roll < 94) {
      const path = this.randomPath(store);
      if (this.discard(store.userSymlink(path, `target-${this.rng.int(5)}`, mtime))) what = `symlink ${path}`;
      node.touched.add(path);
    } else {
      const path = this.rng.pick(files);
      if (this.discard(store.userSetExecutable(path, this.rng.chance(0.5), mtime))) what = `chmod ${path}`;
      node.touched.add(path);
    }
    if (what) this.trace(`${node.name} user ${what}`);
    if (what && this.rng.chance(0.5)) await this.watcherScan(node);
  }

  // ---- folders swapped under a replica, and a root emptied --------------------------------

  /**
   * What the agent and the user do to a replica's folder as a whole: point its space at another
   * folder (a fresh one, one it synced before, a copy of another replica's with that replica's
   * marker, one of another space), or empty it. A state never applies to a folder that is not its
   * root, so none of these turns a file into a delete; emptying the folder pauses and asks.
   */
  private async folderOp(node: Node): Promise<void> {
    this.folderOps++;
    const roll = this.rng.int(7);
    if (roll === 0) return this.moveTo(node, new MemoryStore(node.crash), 'a fresh folder');
    if (roll === 1) {
      const earlier = node.past.length > 0 ? node.past.splice(this.rng.int(node.past.length), 1)[0]! : new MemoryStore(node.crash);
      return this.moveTo(node, earlier, 'a folder it synced before');
    }
    if (roll === 2) {
      const other = this.rng.pick(this.nodes.filter((n) => n !== node));
      const copy = new MemoryStore(node.crash);
      other.store.copyTo(copy);
      return this.moveTo(node, copy, `a copy of ${other.name}'s folder`);
    }
    if (roll === 3) return this.refuseForeignSpace(node);
    if (roll === 4) return this.remount(node);
    return this.emptyRoot(node);
  }

  /**
   * The folder's disk is unmounted (the marker vanishes: the replica stops) and another is mounted
   * at the path, empty or with a copy of another replica's folder: the replica, running all along,
   * starts over there rather than apply its state.
   */
  private async remount(node: Node): Promise<void> {
    const { store } = node;
    const unmounted = new MemoryStore(node.crash);
    store.copyTo(unmounted);
    node.past.push(unmounted);
    const other = this.rng.chance(0.5) ? this.rng.pick(this.nodes.filter((n) => n !== node)) : undefined;
    this.trace(`${node.name} disk unmounted, then ${other ? `a copy of ${other.name}'s folder` : 'an empty disk'} mounted there`);
    const state = await node.state.load();
    const fresh = !state || (state.records.length === 0 && state.needed.length === 0 && state.deferred.length === 0);
    store.removeRootMarker();
    await this.guard(node, () => node.replica.scan());
    const disk = new MemoryStore(node.crash);
    if (other) other.store.copyTo(disk);
    store.mountInstead(disk);
    store.restoreRootMarker();
    node.reRoots = [];
    const replica = node.replica;
    await this.guard(node, () => node.replica.scan());
    if (node.replica !== replica) return; // Crashed meanwhile: opened again, and checked as at any open.
    const fail = (msg: string): never => {
      throw new SimFailure(this.options.seed, `${node.name} on the mounted disk: ${msg}`);
    };
    const found = disk.rootIdentity()?.root ?? '';
    const expected = fresh ? [] : [found === '' ? 'noIdentity' : 'foreignMarker'];
    if (node.reRoots.join() !== expected.join()) fail(`expected re-roots [${expected.join()}], saw [${node.reRoots.join()}]`);
    const deletes = replica.records().filter((r) => r.deleted);
    if (deletes.length > 0) fail(`recorded deletes of files never on this disk: ${deletes.map((r) => r.path).join(', ')}`);
  }

  /**
   * The space's path now names `folder`: the replica is closed and opened there with its state,
   * sometimes with a crash in the middle of opening (and so of a reset). The folder it leaves
   * stays on the disk.
   */
  private async moveTo(node: Node, folder: MemoryStore, what: string): Promise<void> {
    this.trace(`${node.name} folder moved to ${what}`);
    const state = await node.state.load();
    const fresh = !state || (state.records.length === 0 && state.needed.length === 0 && state.deferred.length === 0);
    const found = folder.rootIdentity()?.root ?? '';
    const expected = fresh || found === state.meta.rootId ? [] : [found === '' ? 'noIdentity' : 'foreignMarker'];
    folder.dropTemps();
    node.store.dropTemps();
    node.past.push(node.store);
    node.store = folder;
    node.reRoots = [];
    const crashAt = this.rng.chance(0.3) ? 1 + this.rng.int(8) : 0;
    await this.reopen(node, async () => {
      if (crashAt > 0) node.crash.armAfter(crashAt);
      try {
        return await this.openReplica(node);
      } catch (err) {
        if (!(err instanceof SimulatedCrash)) throw err;
        this.crashes++;
        this.trace(`${node.name} crash while opening`);
        node.crash.reset();
        node.store.dropTemps();
        return this.openReplica(node);
      } finally {
        node.crash.reset();
      }
    });
    const fail = (msg: string): never => {
      throw new SimFailure(this.options.seed, `${node.name} in ${what}: ${msg}`);
    };
    const marker = folder.rootIdentity();
    if (!marker || marker.root === '' || marker.space !== SPACE) fail('the folder was not claimed');
    if (crashAt === 0 && node.reRoots.join() !== expected.join())
      fail(`expected re-roots [${expected.join()}], saw [${node.reRoots.join()}]`);
    // Before any peer speaks: what this replica records of its new folder is what is on it.
    await this.guard(node, () => node.replica.scan());
    const deletes = node.replica.records().filter((r) => r.deleted);
    if (deletes.length > 0) fail(`recorded deletes of files never on this disk: ${deletes.map((r) => r.path).join(', ')}`);
  }

  /** A folder of another space at the replica's path: the replica refuses it and keeps its own. */
  private async refuseForeignSpace(node: Node): Promise<void> {
    const other = new MemoryStore(node.crash);
    this.rng.pick(this.nodes).store.copyTo(other);
    other.setRootIdentity({ space: 'another-space', root: 'f'.repeat(32) });
    const before = JSON.stringify(other.snapshot());
    this.trace(`${node.name} folder of another space offered`);
    try {
      await Replica.open({
        user: node.user,
        space: SPACE,
        store: other,
        state: node.state,
        port: { send: () => undefined },
        clock: node.clock,
        random: this.rng.fork(),
        hasher,
        chunking: SIM_CHUNKING,
      });
    } catch (err) {
      if (!(err instanceof ForeignSpaceError)) throw err;
      if (JSON.stringify(other.snapshot()) !== before || other.rootIdentity()?.space !== 'another-space') {
        throw new SimFailure(this.options.seed, `${node.name} touched a folder of another space`);
      }
      return;
    }
    throw new SimFailure(this.options.seed, `${node.name} opened a folder of another space`);
  }

  /** The user deletes everything in the folder: a scan that finds it so must pause, whatever the folder's size. */
  private async emptyRoot(node: Node): Promise<void> {
    const { store, replica } = node;
    const needed = new Set(replica.neededPaths());
    const known = replica
      .records()
      .filter((r) => !r.deleted && r.type === 'file' && !needed.has(r.path) && store.readUser(r.path) !== undefined).length;
    const wasRunning = replica.state() === 'idle' || replica.state() === 'syncing';
    for (const entry of store.snapshot()) {
      if (!entry.path.includes('/')) this.discard(store.userDelete(entry.path));
    }
    this.trace(`${node.name} user empties the folder (${known} files the engine knew)`);
    node.touched.clear();
    await this.guard(node, () => node.replica.scan());
    if (node.replica === replica && wasRunning && known > 0 && replica.state() !== 'paused') {
      throw new SimFailure(this.options.seed, `${node.name}: a scan found every file gone and did not pause`);
    }
    if (node.replica.state() === 'paused' && this.rng.chance(0.5)) await this.answerPause(node);
  }

  /** Half the time a full scan, half the time only the touched paths, as a file watcher reports them. */
  private async watcherScan(node: Node): Promise<void> {
    if (this.rng.chance(0.5)) {
      node.touched.clear();
      return this.guard(node, () => node.replica.scan());
    }
    const paths = [...node.touched];
    node.touched.clear();
    this.trace(`${node.name} scan ${paths.join(', ')}`);
    await this.guard(node, () => node.replica.scanPaths(paths));
  }

  // ---- healing and checking -----------------------------------------------------------------

  private async settle(): Promise<number> {
    this.trace('heal');
    this.net.faults = { drop: 0, duplicate: 0 };
    for (const a of this.nodes) for (const b of this.nodes) if (a !== b && a.name < b.name) await this.setLink(a, b, true);
    for (let round = 1; round <= MAX_SETTLE_ROUNDS; round++) {
      this.time.advance(10_000);
      for (const n of this.nodes) if (n.replica.state() === 'paused') await this.answerPause(n);
      for (const n of this.nodes) await n.replica.scan();
      for (const n of this.nodes) await n.replica.tick();
      let delivered = 0;
      while (this.net.pending() > 0 && delivered < MAX_DELIVERIES_PER_ROUND) {
        await this.deliver(1);
        delivered++;
      }
      if (this.net.pending() === 0 && this.quiet()) return round;
    }
    throw new SimFailure(this.options.seed, `did not converge in ${MAX_SETTLE_ROUNDS} rounds: ${this.divergence()}`);
  }

  private quiet(): boolean {
    const first = this.nodes[0]!.replica.summary();
    return this.nodes.every((n) => n.replica.neededPaths().length === 0 && equalBytes(n.replica.summary(), first));
  }

  private divergence(): string {
    return this.nodes
      .map(
        (n) =>
          `${n.name}: needed=[${n.replica.neededPaths().join(',')}] errors=[${[...n.replica.errors()].map(([p, e]) => `${p}:${e.code}`).join(',')}] records=${n.replica.records().length}`,
      )
      .join('; ');
  }

  private check(): void {
    const fail = (msg: string): never => {
      throw new SimFailure(this.options.seed, msg);
    };
    const [first, ...rest] = this.nodes;
    const tree = JSON.stringify(first!.store.snapshot());
    const records = sortedRecords(first!.replica.records());
    for (const n of rest) {
      const other = JSON.stringify(n.store.snapshot());
      if (other !== tree) fail(`trees differ between ${first!.name} and ${n.name}:\n${tree}\n${other}`);
      const theirs = sortedRecords(n.replica.records());
      if (theirs.length !== records.length || theirs.some((r, i) => !sameRecord(r, records[i]!))) {
        fail(`indexes differ between ${first!.name} and ${n.name}`);
      }
    }
    for (const n of this.nodes) {
      if (n.store.tempCount() !== 0) fail(`${n.name} has temp files left`);
      if (n.replica.errors().size !== 0) fail(`${n.name} has errors: ${[...n.replica.errors().keys()].join(', ')}`);
      for (const r of n.replica.records()) {
        if (r.deleted) continue;
        const onDisk = n.store.snapshot().find((e) => e.path === r.path);
        if (!onDisk || onDisk.type !== r.type) fail(`${n.name} index says ${r.path} is a ${r.type}, disk disagrees`);
      }
    }
    const present = new Set<string>();
    // A folder a replica left is still on the disk where it was, with its versions folder.
    for (const n of this.nodes) for (const store of [n.store, ...n.past]) for (const h of store.allContentHashes()) present.add(h);
    for (const h of this.written) {
      if (!this.discarded.has(h) && !present.has(h)) fail(`content ${h.slice(0, 12)} was written, never discarded by a user, and is gone`);
    }
  }
}

/** The lines of a text file, each with its break; undefined for anything but UTF-8 without NUL. */
function textLines(data: Uint8Array | undefined): string[] | undefined {
  if (!data || data.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data).match(/[^\n]*\n|[^\n]+$/g) ?? [];
  } catch {
    return undefined;
  }
}

function sortedRecords(records: FileRecord[]): FileRecord[] {
  return records.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
