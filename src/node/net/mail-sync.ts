import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fromHex, toHex } from '../../sync/util/bytes';
import { blockOffsets, type FileRecord } from '../../sync/model/file-record';
import { decodeMessage, encodeMessage } from '../../sync/protocol/codec';
import type { IndexBatch, Message } from '../../sync/protocol/messages';
import type { DiskReplica } from '../disk/disk-replica';
import { replaceFile, writeAtomic } from '../disk/durable-write';
import { inLanes } from '../../sync/replica/lanes';
import { MailKind } from './payload-kind';

/** Payload bytes per mailbox item, well under the server's frame limit. */
const ITEM_BYTES = 4 * 1024 * 1024;
const RECORDS_PER_BATCH = 1000;

/** Where this device's index stands with an offline member device, per space. */
export interface MailPosition {
  readonly indexId: string;
  /** What the device has of our index (from its last hello) or what we mailed it since. */
  readonly sequence: number;
}

/**
 * The mailbox items that bring an offline member device up to date, one at a time so that a
 * large change never sits in memory whole: the blocks of every changed file first, then the
 * index batches, so that when the batches are applied every block they need is already in the
 * receiver's mailbox cache. Versions the recipient wrote itself are left out. Index batches
 * start where the device last was, and the engine
 * accepts a batch that starts at or before its position. `upTo` is the sequence the items
 * bring the device to, fixed before the first item is made; `nothingNew` says the device already
 * has every version up to there (it wrote them), so nothing need be deposited.
 */
export function mailItems(
  disk: DiskReplica,
  space: string,
  from: number,
  recipient: string,
): { upTo: number; nothingNew: boolean; items: AsyncGenerator<Uint8Array> } {
  const replica = disk.replica;
  // Versions the recipient made itself go back to it as index entries only, without their blocks.
  const theirIndex = replica.positionOf(recipient)?.indexId;
  // What the recipient wrote itself it has (or has overwritten since): not sent back at all.
  const records = replica
    .records()
    .filter((r) => r.sequence > from && (theirIndex === undefined || lastEditor(r) !== theirIndex) && !replica.protects(r.path, r.type))
    .sort((a, b) => a.sequence - b.sequence);
  const upTo = replica.sequence;
  const indexId = replica.indexId;
  async function* items(): AsyncGenerator<Uint8Array> {
    let messages: Uint8Array[] = [];
    let bytes = 0;
    const add = (message: Message): Uint8Array | undefined => {
      const frame = encodeMessage(message);
      let full: Uint8Array | undefined;
      if (bytes + frame.length > ITEM_BYTES && messages.length > 0) {
        full = encodeMailItem(space, messages);
        messages = [];
        bytes = 0;
      }
      messages.push(frame);
      bytes += frame.length;
      return full;
    };
    const sent = new Set<string>();
    for (const r of records) {
      if (r.deleted || r.type !== 'file') continue;
      const offsets = blockOffsets(r.blocks);
      for (let i = 0; i < r.blocks.length; i++) {
        const b = r.blocks[i]!;
        const key = toHex(b.hash);
        if (sent.has(key)) continue;
        let data: Uint8Array;
        try {
          data = await disk.store.read(r.path, offsets[i]!, b.size);
        } catch {
          break; // Changed or gone since it was indexed: its newer version will be mailed on its own.
        }
        if (data.length !== b.size) break;
        sent.add(key);
        const full = add({ type: 'blockResponse', id: 0, hash: b.hash, status: 'ok', data });
        if (full) yield full;
      }
    }
    let start = from;
    for (let i = 0; i < records.length || start < upTo; i += RECORDS_PER_BATCH) {
      const batch = records.slice(i, i + RECORDS_PER_BATCH);
      const to = i + RECORDS_PER_BATCH >= records.length ? upTo : batch[batch.length - 1]!.sequence;
      const message: IndexBatch = {
        type: 'index',
        indexId,
        fromSequence: start,
        toSequence: to,
        maxSequence: upTo,
        records: batch as FileRecord[],
      };
      const full = add(message);
      if (full) yield full;
      start = to;
      if (start >= upTo) break;
    }
    if (messages.length > 0) yield encodeMailItem(space, messages);
  }
  return { upTo, nothingNew: records.length === 0, items: items() };
}

/** The replica whose counter is highest in the version: the last to change it. */
function lastEditor(r: FileRecord): string | undefined {
  let best: { id: string; counter: number } | undefined;
  for (const e of r.version) if (!best || e.counter > best.counter) best = e;
  return best?.id;
}

/** One mailbox sync item (PROTOCOL.md R6): the kind byte, the space id, then length-prefixed replica frames. */
export function encodeMailItem(space: string, frames: readonly Uint8Array[]): Uint8Array {
  const total = frames.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(1 + 16 + total);
  const view = new DataView(out.buffer);
  out[0] = MailKind.Sync;
  out.set(fromHex(space), 1);
  let at = 17;
  for (const f of frames) {
    view.setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

export function decodeMailItem(payload: Uint8Array): { space: string; messages: Message[] } {
  if (payload[0] !== MailKind.Sync || payload.length < 17) throw new Error('not a sync item');
  const space = toHex(payload.subarray(1, 17));
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const messages: Message[] = [];
  let at = 17;
  while (at < payload.length) {
    if (at + 4 > payload.length) throw new Error('sync item truncated');
    const length = view.getUint32(at);
    if (at + 4 + length > payload.length) throw new Error('sync item truncated');
    messages.push(decodeMessage(payload.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return { space, messages };
}

/** What one space's blocks from the mailbox may take on disk by default: the server's whole per-user quota. */
export const MAIL_CACHE_BUDGET_BYTES = 1024 * 1024 * 1024;

/** Blocks of one mailbox item written at once: their fsyncs overlap in libuv's thread pool. */
const WRITE_LANES = 16;

/** Blocks found on disk at start: whose index they wait for is not known, so they wait for the first one. */
const FOUND_AT_START = '';

/**
 * Blocks that arrived by mail, kept on disk under the space's state folder until the files
 * that need them are written: the engine asks the (offline) author for them and the agent
 * answers from here. A sender deposits the blocks of a change before its index, so a block
 * waits for its sender's index; once that index is applied, it stays only while a pending
 * record needs it. Everything counts against a budget: a member cannot fill this disk with
 * blocks no record ever asks for.
 */
export class MailBlockCache {
  /** Every cached block: hex hash -> bytes and when it came. */
  private readonly blocks = new Map<string, { size: number; at: number }>();
  /** Blocks that wait for their sender's index, by sender device. */
  private readonly awaiting = new Map<string, Set<string>>();
  private used = 0;
  /** Files of pruned blocks being removed, by key. */
  private readonly removals = new Map<string, Promise<void>>();

  constructor(
    private readonly dir: string,
    readonly budget = MAIL_CACHE_BUDGET_BYTES,
  ) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      // None yet.
    }
    const found = new Set<string>();
    for (const name of names) {
      const st = fs.statSync(nodePath.join(dir, name), { throwIfNoEntry: false });
      if (!st) continue;
      if (!/^[0-9a-f]{64}$/.test(name)) {
        fs.rmSync(nodePath.join(dir, name), { force: true });
        continue;
      }
      this.blocks.set(name, { size: st.size, at: st.mtimeMs });
      this.used += st.size;
      found.add(name);
    }
    if (found.size > 0) this.awaiting.set(FOUND_AT_START, found);
  }

  /** Bytes the cached blocks take now. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.blocks.size;
  }

  /** Keeps a block from `sender` until its index comes; false (and nothing kept) when it would overrun the budget. */
  async put(hash: Uint8Array, data: Uint8Array, sender: string, now = Date.now()): Promise<boolean> {
    return (await this.putAll([{ hash, data }], sender, now))[0]!;
  }

  /**
   * `put` for the blocks of one mailbox item at once. Each is written whole and made durable
   * (temp file, fsync, rename) as before, but off the engine's thread and all at once: written
   * one after another with a synchronous fsync each, a 4 MiB item held the thread for a third of
   * a second, during which no block of a live sync was taken. Resolves once every block is kept.
   */
  async putAll(blocks: readonly { hash: Uint8Array; data: Uint8Array }[], sender: string, now = Date.now()): Promise<boolean[]> {
    const kept: boolean[] = [];
    const fresh: { key: string; data: Uint8Array }[] = [];
    let waiting = this.awaiting.get(sender);
    if (!waiting) this.awaiting.set(sender, (waiting = new Set()));
    for (const { hash, data } of blocks) {
      const key = toHex(hash);
      if (!this.blocks.has(key)) {
        if (this.used + data.length > this.budget) {
          kept.push(false);
          continue;
        }
        // Counted now, so that blocks of the same item share the budget; readable once written.
        this.blocks.set(key, { size: data.length, at: now });
        this.used += data.length;
        fresh.push({ key, data });
      }
      waiting.add(key);
      kept.push(true);
    }
    if (fresh.length === 0) return kept;
    await fs.promises.mkdir(this.dir, { recursive: true });
    await inLanes(fresh, WRITE_LANES, async ({ key, data }) => {
      try {
        await this.removals.get(key);
        await replaceFile(nodePath.join(this.dir, key), data, { durability: 'file' });
      } catch (err) {
        this.forget(key);
        throw err;
      }
    });
    return kept;
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    if (!this.blocks.has(toHex(hash))) return undefined;
    try {
      const buf = fs.readFileSync(nodePath.join(this.dir, toHex(hash)));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      return undefined;
    }
  }

  /** The last index of a deposit from `sender` was applied: its blocks now stay only while a record needs them. */
  indexApplied(sender: string): void {
    this.awaiting.delete(sender);
    this.awaiting.delete(FOUND_AT_START);
  }

  /**
   * Drops every block no pending record needs (`needed`) and no index still to come waits for,
   * and any older than `maxAgeMs` (its index never came). Returns how many went.
   */
  prune(needed: (hexHash: string) => boolean, maxAgeMs: number, now = Date.now()): number {
    let dropped = 0;
    for (const [key, block] of this.blocks) {
      if (now - block.at <= maxAgeMs && (this.waiting(key) || needed(key))) continue;
      this.remove(key);
      this.forget(key);
      dropped++;
    }
    return dropped;
  }

  /**
   * Removes a block's file in the background: removed one after another on the engine's thread,
   * the thousands of blocks a first sync leaves took it 6 s. A block kept again meanwhile waits
   * for its removal (`putAll`), so it is not removed after it was written.
   */
  private remove(key: string): void {
    const removal = fs.promises
      .rm(nodePath.join(this.dir, key), { force: true })
      .catch(() => undefined)
      .finally(() => {
        if (this.removals.get(key) === removal) this.removals.delete(key);
      });
    this.removals.set(key, removal);
  }

  /** Resolves once every removal under way has finished. */
  async settled(): Promise<void> {
    while (this.removals.size > 0) await Promise.all(this.removals.values());
  }

  private forget(key: string): void {
    const block = this.blocks.get(key);
    if (!block) return;
    this.blocks.delete(key);
    for (const w of this.awaiting.values()) w.delete(key);
    this.used -= block.size;
  }

  private waiting(key: string): boolean {
    for (const w of this.awaiting.values()) if (w.has(key)) return true;
    return false;
  }
}

/** Per space: how far each offline member device has our index, persisted with the replica state. */
export class MailPositions {
  private readonly positions: Map<string, MailPosition>;

  constructor(private readonly file: string) {
    let saved: Record<string, MailPosition> = {};
    try {
      saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, MailPosition>;
    } catch {
      // None yet.
    }
    this.positions = new Map(Object.entries(saved));
  }

  get(device: string): MailPosition | undefined {
    return this.positions.get(device);
  }

  set(device: string, position: MailPosition): void {
    const was = this.positions.get(device);
    if (was && was.indexId === position.indexId && was.sequence === position.sequence) return;
    this.positions.set(device, position);
    fs.mkdirSync(nodePath.dirname(this.file), { recursive: true });
    writeAtomic(this.file, JSON.stringify(Object.fromEntries(this.positions)));
  }
}
