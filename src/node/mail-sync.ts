import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fromHex, toHex } from '../sync/bytes';
import { blockOffsets, type FileRecord } from '../sync/file-record';
import { decodeMessage, encodeMessage } from '../sync/protocol/codec';
import type { IndexBatch, Message } from '../sync/protocol/messages';
import type { DiskReplica } from './disk-replica';
import { writeAtomic } from './device-home';

/** First byte of a mailbox payload carrying a space's changes. */
export const MAIL_SYNC = 1;

/** Payload bytes per mailbox item, well under the server's frame limit. */
const ITEM_BYTES = 8 * 1024 * 1024;
const RECORDS_PER_BATCH = 1000;
/** How long cached blocks wait for the index batches that need them. */
const CACHE_GRACE_MS = 30_000;

/** Where this device's index stands with an offline member device, per space. */
export interface MailPosition {
  readonly indexId: string;
  /** What the device has of our index (from its last hello) or what we mailed it since. */
  readonly sequence: number;
}

/**
 * Builds the mailbox items that bring an offline member device up to date: the blocks of every
 * changed file first, then the index batches, so that when the batches are applied every block
 * they need is already in the receiver's mailbox cache. Index batches start where the device
 * last was, and the engine accepts a batch that starts at or before its position.
 * Undefined once `wanted()` turns false (the device came online): it syncs live instead, and
 * reading every changed block for it would only slow that down.
 */
export async function buildMailItems(
  disk: DiskReplica,
  space: string,
  from: number,
  recipient: string,
  wanted: () => boolean,
): Promise<{ items: Uint8Array[]; upTo: number } | undefined> {
  const replica = disk.replica;
  // Versions the recipient made itself go back to it as index entries only, without their blocks.
  const theirIndex = replica.positionOf(recipient)?.indexId;
  const records = disk.replica
    .records()
    .filter((r) => r.sequence > from)
    .sort((a, b) => a.sequence - b.sequence);
  // Only versions the device made itself, merged with no one's: it has them (or newer), so
  // mailing them back would only fill the mailbox while it is away. Nothing is deposited and
  // its position stays, so the next real change is mailed with these, as whole batches.
  if (theirIndex !== undefined && records.every((r) => r.version.length === 1 && r.version[0]!.id === theirIndex)) {
    return { items: [], upTo: from };
  }
  const items: Uint8Array[] = [];
  let messages: Uint8Array[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (messages.length === 0) return;
    items.push(encodeItem(space, messages));
    messages = [];
    bytes = 0;
  };
  const add = (message: Message): void => {
    const frame = encodeMessage(message);
    if (bytes + frame.length > ITEM_BYTES) flush();
    messages.push(frame);
    bytes += frame.length;
  };
  const sent = new Set<string>();
  for (const r of records) {
    if (!wanted()) return undefined;
    if (r.deleted || r.type !== 'file' || (theirIndex !== undefined && lastEditor(r) === theirIndex)) continue;
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
      add({ type: 'blockResponse', id: 0, hash: b.hash, status: 'ok', data });
    }
  }
  flush();
  const upTo = replica.sequence;
  let start = from;
  for (let i = 0; i < records.length || start < upTo; i += RECORDS_PER_BATCH) {
    const batch = records.slice(i, i + RECORDS_PER_BATCH);
    const to = i + RECORDS_PER_BATCH >= records.length ? upTo : batch[batch.length - 1]!.sequence;
    const message: IndexBatch = { type: 'index', indexId: replica.indexId, fromSequence: start, toSequence: to, maxSequence: upTo, records: batch as FileRecord[] };
    add(message);
    start = to;
    if (start >= upTo) break;
  }
  flush();
  return { items, upTo };
}

/** The replica whose counter is highest in the version: the last to change it. */
function lastEditor(r: FileRecord): string | undefined {
  let best: { id: string; counter: number } | undefined;
  for (const e of r.version) if (!best || e.counter > best.counter) best = e;
  return best?.id;
}

function encodeItem(space: string, frames: readonly Uint8Array[]): Uint8Array {
  const total = frames.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(1 + 16 + total);
  const view = new DataView(out.buffer);
  out[0] = MAIL_SYNC;
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
  if (payload[0] !== MAIL_SYNC || payload.length < 17) throw new Error('not a sync item');
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
  private lastPutAt = 0;

  constructor(private readonly dir: string) {}

  put(hash: Uint8Array, data: Uint8Array): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = nodePath.join(this.dir, toHex(hash));
    if (!fs.existsSync(file)) writeAtomic(file, data);
    this.lastPutAt = Date.now();
  }

  /**
   * Clears the cache when nothing needs its blocks, unless some came in the last half minute:
   * blocks come in the items before the index batches that need them, and a tick between two
   * items must not throw them away.
   */
  clearUnlessRecent(now: number): void {
    if (now - this.lastPutAt >= CACHE_GRACE_MS) this.clear();
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    try {
      const buf = fs.readFileSync(nodePath.join(this.dir, toHex(hash)));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      return undefined;
    }
  }

  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
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
