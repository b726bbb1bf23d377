import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { DiskReplica, type DiskReplicaOptions } from '../../src/node/disk/disk-replica';
import { DiskStore, MARKER_DIR } from '../../src/node/disk/disk-store';
import { FsWorkerPool } from '../../src/node/workers/fs-worker-pool';
import { toHex } from '../../src/sync/util/bytes';
import type { MessagePort } from '../../src/sync/ports/ports';
import type { Message } from '../../src/sync/protocol/messages';
import { decodeMessage, encodeMessage } from '../../src/sync/protocol/codec';
import type { ReplicaEvent } from '../../src/sync/replica/replica-events';

export interface Member {
  readonly name: string;
  /** The folder; `reopenAt` points the member's state at another. */
  root: string;
  readonly stateDir: string;
  readonly events: ReplicaEvent[];
  disk: DiskReplica;
}

/** Tuning that makes retries and anti-entropy quick enough for a test, not for a network. */
export const FAST_ENGINE: DiskReplicaOptions['engine'] = {
  resendIntervalMs: 300,
  requestTimeoutMs: 5_000,
  antiEntropyMs: 1_000,
  retryMs: 200,
};

/** A disk replica with the test tuning: quick ticks and retries. */
export function openTestReplica(
  root: string,
  stateDir: string,
  user: string,
  port: MessagePort,
  extra: Partial<DiskReplicaOptions> = {},
): Promise<DiskReplica> {
  return DiskReplica.open({ root, stateDir, user, port, tickMs: 100, engine: FAST_ENGINE, ...extra });
}

/**
 * Disk replicas of one folder in this process, in temporary directories, each pair linked through
 * the engine's message port and the real codec; no server. Delivery is asynchronous and in order.
 */
export class DiskCluster {
  readonly members = new Map<string, Member>();
  readonly base: string;
  readonly pool = new FsWorkerPool();
  private readonly linked = new Set<string>();

  private constructor(
    base: string,
    private readonly extra: Partial<DiskReplicaOptions>,
  ) {
    this.base = base;
  }

  static async create(names: readonly string[], extra: Partial<DiskReplicaOptions> = {}): Promise<DiskCluster> {
    const cluster = new DiskCluster(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-disk-')), extra);
    for (const name of names) await cluster.add(name);
    return cluster;
  }

  member(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  async add(name: string, root = nodePath.join(this.base, name, 'folder')): Promise<Member> {
    const stateDir = nodePath.join(this.base, name, 'state');
    await DiskStore.initFolder(root);
    const member: Member = { name, root, stateDir, events: [], disk: undefined as unknown as DiskReplica };
    member.disk = await this.open(member);
    this.members.set(name, member);
    await member.disk.start();
    return member;
  }

  /** Connects every pair of members. */
  async linkAll(): Promise<void> {
    const names = [...this.members.keys()];
    for (const a of names) for (const b of names) if (a < b) await this.link(a, b);
  }

  async link(a: string, b: string): Promise<void> {
    this.linked.add(`${a}|${b}`).add(`${b}|${a}`);
    await this.member(a).disk.replica.peerUp(b);
    await this.member(b).disk.replica.peerUp(a);
  }

  async unlink(a: string, b: string): Promise<void> {
    this.linked.delete(`${a}|${b}`);
    this.linked.delete(`${b}|${a}`);
    await this.member(a).disk.replica.peerDown(b);
    await this.member(b).disk.replica.peerDown(a);
  }

  /** Closes and reopens a member from its state folder, as after a restart. */
  async restart(name: string): Promise<void> {
    const m = this.member(name);
    const peers = [...this.members.keys()].filter((p) => this.linked.has(`${name}|${p}`));
    for (const p of peers) await this.member(p).disk.replica.peerDown(name);
    await m.disk.close();
    m.disk = await this.open(m);
    await m.disk.start();
    for (const p of peers) {
      await m.disk.replica.peerUp(p);
      await this.member(p).disk.replica.peerUp(name);
    }
  }

  /** Closes a member and opens its state against another folder, as when its space's path changes. */
  async reopenAt(name: string, root: string): Promise<void> {
    this.member(name).root = root;
    await this.restart(name);
  }

  /** Waits until every member is idle with the same index summary and the same tree on disk. */
  async settle(timeoutMs = 60_000, options: { confirmMassDeletes?: boolean } = {}): Promise<Map<string, TreeEntry>> {
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      const members = [...this.members.values()];
      for (const m of members) {
        // The person at the keyboard meant it: they answer the mass-delete question with "delete".
        if (options.confirmMassDeletes && m.disk.replica.state() === 'paused') await m.disk.replica.resolveMassDelete('delete');
        await m.disk.scan();
      }
      const summaries = new Set(members.map((m) => toHex(m.disk.replica.summary())));
      const states = members.map((m) => m.disk.replica.state());
      if (summaries.size === 1 && states.every((s) => s === 'idle')) {
        // What each member ignores stays its own; everything else must match.
        const trees = await Promise.all(members.map((m) => snapshotTree(m.root, (p, dir) => m.disk.ignoreRules.ignores(p, dir))));
        const first = describe(trees[0]!);
        if (trees.every((t) => describe(t) === first)) return trees[0]!;
        last = `trees differ:\n${members.map((m, i) => `${m.name}: ${describe(trees[i]!).slice(0, 2000)}`).join('\n')}`;
      } else {
        last = `states ${states.join(',')}, ${summaries.size} distinct summaries; needed: ${members
          .map((m) => `${m.name}=[${m.disk.replica.neededPaths().slice(0, 5).join(', ')}]`)
          .join(
            ' ',
          )}; errors: ${members.map((m) => [...m.disk.replica.errors()].map(([p, e]) => `${m.name}:${p}:${e.code}`).join(' ')).join(' ')}`;
      }
      if (Date.now() > deadline) throw new Error(`no convergence within ${timeoutMs} ms: ${last}`);
      await sleep(150);
    }
  }

  async close(): Promise<void> {
    for (const m of this.members.values()) await m.disk.close();
    await this.pool.close();
    fs.rmSync(this.base, { recursive: true, force: true });
  }

  private open(member: Member): Promise<DiskReplica> {
    return openTestReplica(
      member.root,
      member.stateDir,
      member.name,
      { send: (peer, message) => this.deliver(member.name, peer, message) },
      {
        pool: this.pool,
        onEvent: (event) => member.events.push(event),
        ...this.extra,
      },
    );
  }

  private deliver(from: string, to: string, message: Message): void {
    if (!this.linked.has(`${from}|${to}`)) return;
    const frame = encodeMessage(message);
    setImmediate(() => {
      const target = this.members.get(to);
      if (!target || !this.linked.has(`${from}|${to}`)) return;
      void target.disk.replica.receive(from, decodeMessage(frame)).catch((err: unknown) => {
        target.events.push({ kind: 'error', path: '', problem: { code: 'io', message: String(err), source: 'remote' } });
      });
    });
  }
}

export interface TreeEntry {
  readonly type: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly sha256: string;
  readonly executable: boolean;
  readonly target: string;
}

/** Every entry of a shared folder on disk except the replica's own, with content hashes. */
export async function snapshotTree(
  root: string,
  ignored: (path: string, directory: boolean) => boolean = () => false,
): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const visit = async (dir: string): Promise<void> => {
    const names = (await fs.promises.readdir(nodePath.join(root, dir))).sort();
    for (const name of names) {
      const path = dir === '' ? name : `${dir}/${name}`;
      if (dir === '' && name.startsWith(MARKER_DIR)) continue;
      const abs = nodePath.join(root, path);
      const st = await fs.promises.lstat(abs);
      if (ignored(path, st.isDirectory())) continue;
      if (st.isDirectory()) {
        out.set(path, { type: 'directory', size: 0, sha256: '', executable: false, target: '' });
        await visit(path);
      } else if (st.isSymbolicLink()) {
        out.set(path, { type: 'symlink', size: 0, sha256: '', executable: false, target: await fs.promises.readlink(abs) });
      } else {
        out.set(path, { type: 'file', size: st.size, sha256: await sha256File(abs), executable: (st.mode & 0o100) !== 0, target: '' });
      }
    }
  };
  await visit('');
  return out;
}

export async function sha256File(abs: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(abs, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

export function describe(tree: Map<string, TreeEntry>): string {
  return [...tree].map(([p, e]) => `${p} ${e.type} ${e.size} ${e.sha256.slice(0, 12)} ${e.executable ? 'x' : '-'} ${e.target}`).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true, at most `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
