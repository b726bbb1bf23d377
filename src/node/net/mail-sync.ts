import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fromHex, toHex } from '../../sync/util/bytes';
import { blockOffsets, type FileRecord } from '../../sync/model/file-record';
import { decodeMessage, encodeMessage } from '../../sync/protocol/codec';
import type { IndexBatch, Message } from '../../sync/protocol/messages';
import type { DiskReplica } from '../disk/disk-replica';
import { writeAtomic } from '../disk/durable-write';
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
    .filter((r) => r.sequence > from && (theirIndex === undefined || lastEditor(r) !== theirIndex))
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

/**
 * Blocks that arrived by mail, kept on disk under the space's state folder until the files
 * that need them are written: the engine asks the (offline) author for them and the agent
 * answers from here.
 */
export class MailBlockCache {
  constructor(private readonly dir: string) {}

  put(hash: Uint8Array, data: Uint8Array): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = nodePath.join(this.dir, toHex(hash));
    if (!fs.existsSync(file)) writeAtomic(file, data);
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    try {
      const buf = fs.readFileSync(nodePath.join(this.dir, toHex(hash)));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      return undefined;
    }
  }

  /**
   * Drops the blocks a file on disk now holds, and any older than `maxAgeMs` (their index never
   * came). Blocks still waiting for the index that needs them stay: a large change arrives as
   * many items of blocks before its index.
   */
  prune(held: (hash: Uint8Array) => boolean, maxAgeMs: number, now = Date.now()): number {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return 0;
    }
    let dropped = 0;
    for (const name of names) {
      const file = nodePath.join(this.dir, name);
      const old = now - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? now) > maxAgeMs;
      if (old || !/^[0-9a-f]{64}$/.test(name) || held(fromHex(name))) {
        fs.rmSync(file, { force: true });
        dropped++;
      }
    }
    return dropped;
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
