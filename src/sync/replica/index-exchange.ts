import { equalBytes, fromHex, toHex } from '../util/bytes';
import type { FileRecord } from '../model/file-record';
import { describeForgedCounter, forgedCounter, MAX_COUNTER_LEAD_MS } from '../model/vector-guard';
import type { BlockListDelta, Hello, IndexBatch, SummaryNotice } from '../protocol/messages';
import { DEFAULT_LIMITS } from '../protocol/codec';
import { applyBlockListDelta, DELTA_MIN_BLOCKS, diffBlockLists, RecentBlockLists } from './block-list-delta';
import type { PeerSession } from './peer-session';
import type { BlockServer } from './block-server';
import type { Puller } from './puller';
import type { ReplicaCore } from './replica-core';
import { ResendBudget } from './resend-budget';
import type { Transaction } from './transaction';
import type { VersionIntegrator } from './version-integrator';

/**
 * The exchange of indexes with connected peers: hellos say where each side stands, batches carry
 * the records the other has not seen, summaries catch what slipped through (anti-entropy).
 */
/**
 * The smallest allowance of records sent again, per peer and window: a peer that reads all again
 * twice in a minute for a reason of its own (its ignore rules changed, say) gets a small index
 * at once, while a large one still costs a hostile peer at most one index a window.
 */
const MIN_RESEND_RECORDS = 1_000;

/**
 * A new local version of a file up to this size has its blocks sent with its record, unasked
 * (docs/PROTOCOL.md section 9, rule 8): a save reaches the peer's disk without a request's round
 * trip. At most this many files per commit, so a large copy goes the ordinary way.
 */
const PUSH_MAX_FILE_BYTES = 64 * 1024;
const PUSH_MAX_FILES = 16;

export class IndexExchange {
  private readonly budget: ResendBudget;
  /** Large block lists sent or received lately: bases for deltas either way. */
  private readonly recent = new RecentBlockLists();
  /** Blocks being pushed to peers by the current step (see `pushContent`). */
  private readonly pushes: Promise<{ err: unknown } | undefined>[] = [];

  constructor(
    private readonly core: ReplicaCore,
    private readonly versions: VersionIntegrator,
    private readonly puller: Puller,
    private readonly blocks: BlockServer,
  ) {
    this.budget = new ResendBudget(core.options.resendWindowMs ?? 60_000);
  }

  peerUp(peer: string): void {
    this.core.sessions.set(peer, { theirMax: 0, lastResendAt: -Infinity, lastSummaryAt: this.core.now() });
    this.sendHello(peer, false);
  }

  /**
   * Asks every peer for its whole index again: records the old ignore rules refused were
   * skipped for good.
   */
  async readAllAgain(): Promise<void> {
    const { core } = this;
    const tx = core.begin();
    for (const p of core.positions.values()) tx.peers.set(p.peer, { ...p, sequence: 0 });
    await core.commit(tx);
    for (const [peer, session] of core.sessions) {
      session.theirMax = 0;
      this.sendHello(peer, false);
    }
  }

  /** Periodic work: asks again for what a peer announced and never sent, and compares summaries. */
  tick(now: number): void {
    const { core } = this;
    for (const [peer, s] of core.sessions) {
      if (s.replayFrom !== undefined && this.mayResend(peer, s.replayFrom, now)) {
        s.sentUpTo = s.replayFrom;
        s.replayFrom = undefined;
        this.sendIndex(peer, s);
      }
      if (s.theirMax > (core.positions.get(peer)?.sequence ?? 0)) this.requestResend(peer, s);
      if (now - s.lastSummaryAt >= (core.options.antiEntropyMs ?? 60_000)) {
        s.lastSummaryAt = now;
        core.options.port.send(peer, { type: 'summary', summary: core.index.summary() });
      }
    }
  }

  /** After a commit: new records go to every connected peer. */
  committed(tx: Transaction): void {
    if (tx.records.size > 0) this.pushIndex();
  }

  private sendHello(peer: string, reply: boolean): void {
    const { core } = this;
    const pos = core.positions.get(peer);
    const hello: Hello = {
      type: 'hello',
      indexId: core.meta.indexId,
      maxSequence: core.meta.sequence,
      knownIndexId: pos?.indexId ?? '',
      knownSequence: pos?.sequence ?? 0,
      summary: core.index.summary(),
      reply,
      wholeBlockLists: core.sessions.get(peer)?.askWhole ?? false,
    };
    core.options.port.send(peer, hello);
  }

  async onHello(peer: string, hello: Hello): Promise<void> {
    const { core } = this;
    const session = core.sessions.get(peer)!;
    session.theirMax = hello.maxSequence;
    if (hello.wholeBlockLists) {
      // What we believed it holds was wrong: whole lists for everything up to now.
      session.wholeUpTo = core.meta.sequence;
      session.holds?.clear();
    }
    const pos = core.positions.get(peer);
    if (pos && pos.indexId !== hello.indexId) {
      // The peer lost its state and started a new index: read it from the start.
      const tx = core.begin();
      tx.peers.set(peer, { peer, indexId: hello.indexId, sequence: 0 });
      await core.commit(tx);
    }
    const from = hello.knownIndexId === core.meta.indexId ? Math.min(hello.knownSequence, core.meta.sequence) : 0;
    if (this.mayResend(peer, from, core.now())) {
      session.sentUpTo = from;
      session.replayFrom = undefined;
    } else {
      // Records it had from us already, asked for again too soon: they follow once its allowance
      // has refilled (tick); meanwhile it gets what is new.
      session.replayFrom = Math.min(session.replayFrom ?? from, from);
    }
    this.sendIndex(peer, session);
    if (!hello.reply) this.sendHello(peer, true);
  }

  /** Whether sending the peer everything after `from` stays within its allowance for records sent again. */
  private mayResend(peer: string, from: number, now: number): boolean {
    const again = this.budget.repeated(peer, from);
    if (!again) return true;
    let records = 0;
    for (const r of this.core.index.since(again.from)) {
      if (r.sequence > again.to) break;
      records++;
    }
    return this.budget.take(peer, records, Math.max(this.core.options.minResendRecords ?? MIN_RESEND_RECORDS, this.core.index.size), now);
  }

  /** Sends every record the peer has not seen, in batches that together cover (sentUpTo, max]. */
  private sendIndex(peer: string, session: PeerSession): void {
    const { core } = this;
    const from = session.sentUpTo;
    if (from === undefined || from >= core.meta.sequence) return;
    const limit = core.options.batchRecords ?? 1000;
    let batch: FileRecord[] = [];
    let start = from;
    for (const r of core.index.since(from)) {
      batch.push(r);
      if (batch.length >= limit) {
        this.sendBatch(peer, start, r.sequence, batch);
        start = r.sequence;
        batch = [];
      }
    }
    if (batch.length > 0 || start < core.meta.sequence) this.sendBatch(peer, start, core.meta.sequence, batch);
    session.sentUpTo = core.meta.sequence;
    this.budget.sent(peer, core.meta.sequence);
  }

  private sendBatch(peer: string, from: number, to: number, records: FileRecord[]): void {
    const session = this.core.sessions.get(peer);
    // Records of protected paths synced before there was a guard stay in the index, unsent.
    const sent = records.filter((r) => this.core.protects(r.path, r.type) === undefined);
    const deltas = new Map<number, BlockListDelta>();
    const out = sent.map((r, i) => {
      const delta = session && this.deltaFor(session, r);
      if (!delta) return r;
      deltas.set(i, delta);
      return { ...r, blocks: [] };
    });
    const batch: IndexBatch = {
      type: 'index',
      indexId: this.core.meta.indexId,
      fromSequence: from,
      toSequence: to,
      maxSequence: this.core.meta.sequence,
      records: out,
      ...(deltas.size > 0 ? { deltas } : {}),
    };
    this.core.options.port.send(peer, batch);
    if (session) for (const r of sent) this.noteHeld(session, r);
  }

  /**
   * The record's block list as an edit of a list the peer holds for its path, when we know
   * that list (it is this very list, or one we sent or received lately) and the edit is small.
   */
  private deltaFor(session: PeerSession, r: FileRecord): BlockListDelta | undefined {
    if (r.type !== 'file' || r.deleted || r.blocks.length < DELTA_MIN_BLOCKS) return undefined;
    if (session.wholeUpTo !== undefined && r.sequence <= session.wholeUpTo) return undefined;
    const held = session.holds?.get(r.path);
    if (held === undefined) return undefined;
    const base = held === toHex(r.hash) ? r.blocks : this.recent.get(held);
    if (!base) return undefined;
    const delta = diffBlockLists(fromHex(held), base, r.blocks);
    return delta.middle.length * 2 <= r.blocks.length ? delta : undefined;
  }

  /** The peer holds this version now (it sent it, or we did): a base for what we send it next. */
  private noteHeld(session: PeerSession, r: FileRecord): void {
    if (r.type !== 'file' || r.deleted || r.blocks.length < DELTA_MIN_BLOCKS) return;
    const hex = toHex(r.hash);
    (session.holds ??= new Map()).set(r.path, hex);
    this.recent.remember(hex, r.blocks);
  }

  /**
   * The batch's records with every delta resolved against the base it names: our record of the
   * path, or a list sent or received lately. Undefined when a base is not at hand or the list
   * it gives does not fit the record; the caller asks for whole lists then.
   */
  private resolve(batch: IndexBatch): readonly FileRecord[] | undefined {
    if (!batch.deltas || batch.deltas.size === 0) return batch.records;
    const out = [...batch.records];
    for (const [i, delta] of batch.deltas) {
      const record = batch.records[i];
      if (!record) return undefined;
      const ours = this.core.index.get(record.path);
      const base = ours && equalBytes(ours.hash, delta.base) ? ours.blocks : this.recent.get(toHex(delta.base));
      const blocks = base && applyBlockListDelta(base, delta);
      if (!blocks || !fitsRecord(blocks, record.size)) return undefined;
      out[i] = { ...record, blocks };
    }
    return out;
  }

  private pushIndex(): void {
    for (const [peer, session] of this.core.sessions) {
      const from = session.sentUpTo;
      this.sendIndex(peer, session);
      if (from !== undefined) this.pushContent(peer, from);
    }
  }

  /** The blocks of the small files this replica just changed itself, after their records (see PUSH_MAX_FILE_BYTES). */
  private pushContent(peer: string, from: number): void {
    const { core } = this;
    const files: FileRecord[] = [];
    for (const r of core.index.since(from)) {
      if (files.length >= PUSH_MAX_FILES) break;
      if (r.type !== 'file' || r.deleted || r.size === 0 || r.size > PUSH_MAX_FILE_BYTES || !this.madeHere(r)) continue;
      if (core.protects(r.path, r.type) === undefined && !core.neededMap.has(r.path)) files.push(r);
    }
    if (files.length === 0) return;
    // Its failure is held, not left unhandled, until the step looks (`pushed`).
    this.pushes.push(
      this.blocks.push(peer, files).then(
        () => undefined,
        (err: unknown) => ({ err }),
      ),
    );
  }

  /**
   * Waits for the blocks pushed in this step to be read and sent: the step owns its reads, so
   * the failure of one (a crash) is the step's, as for every other read.
   */
  async pushed(): Promise<void> {
    while (this.pushes.length > 0) {
      const failed = (await Promise.all(this.pushes.splice(0))).find((outcome) => outcome !== undefined);
      if (failed) throw failed.err;
    }
  }

  /** Whether this replica wrote the record's version: its own counter is the newest in the vector. */
  private madeHere(r: FileRecord): boolean {
    let newest = r.version[0];
    for (const e of r.version) if (e.counter > newest!.counter) newest = e;
    return newest?.id === this.core.meta.indexId;
  }

  async onIndex(peer: string, batch: IndexBatch): Promise<void> {
    const { core } = this;
    const session = core.sessions.get(peer)!;
    session.theirMax = Math.max(session.theirMax, batch.maxSequence);
    let pos = core.positions.get(peer);
    if (!pos || pos.indexId !== batch.indexId) {
      if (batch.fromSequence !== 0) return this.requestResend(peer, session);
      pos = { peer, indexId: batch.indexId, sequence: 0 };
      session.theirMax = batch.maxSequence;
    }
    if (batch.fromSequence > pos.sequence) return this.requestResend(peer, session);
    if (batch.toSequence <= pos.sequence) return;
    const records = this.resolve(batch);
    if (!records) {
      // A delta on a base we do not hold: nothing of the batch applies, and the peer sends it again whole.
      session.askWhole = true;
      return this.requestResend(peer, session);
    }
    session.askWhole = false;
    for (const r of records) this.noteHeld(session, r);
    const tx = core.begin();
    // Each record is judged on its own: a bad one is refused and reported, the rest still apply.
    const own = { id: core.meta.indexId, counter: Math.max(core.meta.counter, tx.meta.counter) };
    for (const remote of records) {
      if (remote.sequence <= pos.sequence || !core.syncable(remote.path, remote.type, 'remote', remote.deleted, peer)) continue;
      const forged = forgedCounter(remote.version, own, core.now());
      if (forged) {
        core.reportProblem(remote.path, { code: 'forgedVersion', message: describeForgedCounter(forged), source: 'remote' }, peer);
        // A claim on our counter close enough to the clock may have been taken by members who
        // cannot tell it from ours: outbid it, so our versions win there again.
        if (forged.kind === 'ownCounter' && forged.counter - core.now() <= MAX_COUNTER_LEAD_MS)
          this.versions.outbid(tx, remote.path, forged.counter);
        continue;
      }
      this.versions.integrate(tx, withoutInode(remote), core.diskRecord(tx, remote.path));
    }
    tx.peers.set(peer, { peer, indexId: batch.indexId, sequence: batch.toSequence });
    await core.commit(tx);
    for (const path of tx.neededChanges.keys()) if (core.neededMap.has(path)) core.senders.set(path, peer);
    await this.puller.applyNeeded();
  }

  private requestResend(peer: string, session: PeerSession): void {
    const now = this.core.now();
    if (now - session.lastResendAt < this.core.resendMs) return;
    session.lastResendAt = now;
    this.sendHello(peer, true);
  }

  onSummary(peer: string, notice: SummaryNotice): void {
    if (!equalBytes(notice.summary, this.core.index.summary())) this.sendHello(peer, false);
  }
}

/** Whether a resolved list could belong to the record: the codec's rules for a whole list. */
function fitsRecord(blocks: readonly { size: number }[], size: number): boolean {
  if (blocks.length > DEFAULT_LIMITS.maxBlocksPerRecord) return false;
  let total = 0;
  for (const b of blocks) total += b.size;
  return total === size;
}

function withoutInode(record: FileRecord): FileRecord {
  if (record.inode === undefined) return record;
  const { inode: _local, ...rest } = record;
  return rest;
}
