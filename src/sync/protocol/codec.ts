/**
 * src/sync/protocol/: the bytes between two replicas (codec.ts, wire.ts, messages.ts;
 * docs/PROTOCOL.md part one) and the rendezvous protocol that devices and the server share
 * (rendezvous.ts, part two). Pure engine: imports only from src/sync (model/, ports/, util/).
 * The server may import this folder and src/sync/util, and nothing else of the engine.
 */
import { compactCopy, intern } from '../util/bytes';
import type { BlockRef, EntryType, FileRecord } from '../model/file-record';
import {
  isCanonical,
  MAX_REPLICA_ID_LENGTH,
  MAX_VECTOR_ENTRIES,
  readVector,
  writeVector,
  type VersionVector,
} from '../model/version-vector';
import type {
  BlockListDelta,
  BlockRequest,
  BlockResponse,
  BlockStatus,
  Hello,
  IndexBatch,
  Message,
  MessageType,
  SummaryNotice,
} from './messages';
import { ByteReader, ByteWriter, DecodeError } from './wire';

/**
 * The replica protocol's bytes (docs/PROTOCOL.md). Free functions over plain data: the caller owns
 * the socket. Decoding accepts exactly one encoding per value, so decode(encode(m)) is m and
 * encode(decode(frame)) is frame; encoding refuses (RangeError) anything decoding would refuse,
 * so a peer never sends a frame the other side must drop.
 */

/** Bumped on any change to the bytes below, together with docs/PROTOCOL.md. */
export const PROTOCOL_VERSION = 2;

/** The u32 length prefix. It and the version byte after it keep their place in every version. */
export const FRAME_HEADER_BYTES = 4;

/** SHA-256, the only hash on the wire. */
export const HASH_BYTES = 32;

export interface CodecLimits {
  /** Bytes after the length prefix (version, type, payload). */
  readonly maxFrameSize: number;
  /** UTF-8 bytes of a path or symlink target. */
  readonly maxPathBytes: number;
  readonly maxRecordsPerBatch: number;
  readonly maxBlocksPerRecord: number;
  /** UTF-8 bytes of short names: index ids, modifiedBy. */
  readonly maxNameBytes: number;
  /** A block's payload, a block reference's size and BlockRequest.size. */
  readonly maxBlockSize: number;
}

export const DEFAULT_LIMITS: CodecLimits = Object.freeze({
  maxFrameSize: 64 * 1024 * 1024,
  maxPathBytes: 4096,
  maxRecordsPerBatch: 100_000,
  maxBlocksPerRecord: 4_000_000,
  maxNameBytes: 256,
  maxBlockSize: 1024 * 1024,
});

const TYPE_CODES: Readonly<Record<MessageType, number>> = { hello: 1, index: 2, blockRequest: 3, blockResponse: 4, summary: 5 };
const ENTRY_TYPES: readonly EntryType[] = ['file', 'directory', 'symlink'];
const STATUSES: readonly BlockStatus[] = ['ok', 'notFound'];
const FLAG_DELETED = 1;
const FLAG_EXECUTABLE = 2;
const KNOWN_FLAGS = FLAG_DELETED | FLAG_EXECUTABLE;
const MAX_U32 = 0xffffffff;
/** How a record of an index batch carries its block list: whole, or as a delta (docs/PROTOCOL.md section 4). */
const WHOLE_LIST = 0;
const DELTA_LIST = 1;
/** zigzag doubles its input, and the result must stay a safe integer. */
const MAX_ZIGZAG = 2 ** 52;
/** Twelve fields of at least one byte each, and the form byte in a batch: lets a record count be refused before any allocation. */
const MIN_RECORD_BYTES = 13;
/** A block reference: 32 hash bytes and a size of at least one byte. */
const MIN_BLOCK_BYTES = HASH_BYTES + 1;

function resolveLimits(p: Partial<CodecLimits>): CodecLimits {
  return {
    maxFrameSize: p.maxFrameSize ?? DEFAULT_LIMITS.maxFrameSize,
    maxPathBytes: p.maxPathBytes ?? DEFAULT_LIMITS.maxPathBytes,
    maxRecordsPerBatch: p.maxRecordsPerBatch ?? DEFAULT_LIMITS.maxRecordsPerBatch,
    maxBlocksPerRecord: p.maxBlocksPerRecord ?? DEFAULT_LIMITS.maxBlocksPerRecord,
    maxNameBytes: p.maxNameBytes ?? DEFAULT_LIMITS.maxNameBytes,
    maxBlockSize: p.maxBlockSize ?? DEFAULT_LIMITS.maxBlockSize,
  };
}

// ---- rules both directions enforce ---------------------------------------------------------
// Each returns what is wrong, or undefined; encode turns it into a RangeError, decode into a
// DecodeError, so the two sides cannot drift apart.

function hashRuleBroken(h: Uint8Array, what: string, optional: boolean): string | undefined {
  if (h.length === HASH_BYTES || (optional && h.length === 0)) return undefined;
  return `${what} is ${h.length} bytes, expected ${optional ? '0 or ' : ''}${HASH_BYTES}`;
}

function blockSizeRuleBroken(size: number, limits: CodecLimits): string | undefined {
  if (Number.isSafeInteger(size) && size >= 1 && size <= limits.maxBlockSize) return undefined;
  return `block size ${size} outside 1..${limits.maxBlockSize}`;
}

/** The record's parts must agree: tombstones, directories and symlinks have no blocks; a live file's blocks add up to its size. */
function recordRuleBroken(r: FileRecord, limits: CodecLimits): string | undefined {
  const broken = hashRuleBroken(r.hash, 'content hash', true) ?? hashRuleBroken(r.ancestor, 'ancestor hash', true);
  if (broken !== undefined) return broken;
  if (r.blocks.length > limits.maxBlocksPerRecord) return `${r.blocks.length} blocks, limit ${limits.maxBlocksPerRecord}`;
  let total = 0;
  for (const b of r.blocks) {
    const bad = hashRuleBroken(b.hash, 'block hash', false) ?? blockSizeRuleBroken(b.size, limits);
    if (bad !== undefined) return bad;
    total += b.size;
  }
  const liveFile = r.type === 'file' && !r.deleted;
  if (!liveFile && r.blocks.length > 0) return `${r.deleted ? 'a tombstone' : `a ${r.type}`} has no blocks`;
  if (liveFile && total !== r.size) return `blocks add up to ${total} bytes, size is ${r.size}`;
  return undefined;
}

/** A delta stands for a live file's list, cut and filled within the limits; the result is judged once resolved. */
function deltaRuleBroken(r: FileRecord, d: BlockListDelta, limits: CodecLimits): string | undefined {
  if (r.type !== 'file' || r.deleted) return `a block-list delta for a ${r.deleted ? 'tombstone' : r.type}`;
  if (r.blocks.length > 0) return 'a record with a block-list delta carries no blocks of its own';
  const broken =
    hashRuleBroken(r.hash, 'content hash', false) ??
    hashRuleBroken(r.ancestor, 'ancestor hash', true) ??
    hashRuleBroken(d.base, 'delta base', false);
  if (broken !== undefined) return broken;
  if (!Number.isSafeInteger(d.prefix) || !Number.isSafeInteger(d.suffix) || d.prefix < 0 || d.suffix < 0) return 'delta prefix or suffix';
  if (d.prefix + d.suffix + d.middle.length > limits.maxBlocksPerRecord)
    return `delta of ${d.prefix + d.suffix + d.middle.length} blocks, limit ${limits.maxBlocksPerRecord}`;
  for (const b of d.middle) {
    const bad = hashRuleBroken(b.hash, 'block hash', false) ?? blockSizeRuleBroken(b.size, limits);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function rangeRuleBroken(from: number, to: number, max: number): string | undefined {
  if (from <= to && to <= max) return undefined;
  return `sequence range (${from}, ${to}] with max ${max}: need from <= to <= max`;
}

/**
 * A receiver holds `toSequence` once it applies a batch, so a record outside the range would be
 * skipped or misplaced. Ascending order is the sender's duty (docs/PROTOCOL.md) but is not checked
 * here: a batch is applied as a whole, so its order does not change what the receiver learns.
 */
function sequenceRuleBroken(sequence: number, from: number, to: number): string | undefined {
  if (sequence > from && sequence <= to) return undefined;
  return `record sequence ${sequence} outside the batch range (${from}, ${to}]`;
}

// ---- encoding ------------------------------------------------------------------------------

function refuse(what: string): never {
  throw new RangeError(`cannot encode: ${what}`);
}

/** UTF-8 length of `text`, or -1 if it holds a lone surrogate, which UTF-8 cannot carry. */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function checkString(text: string, maxBytes: number, what: string, nonEmpty = false): void {
  const n = utf8Length(text);
  // A lone surrogate would be replaced by U+FFFD on the way out and come back as another string.
  if (n < 0) refuse(`${what} has a lone surrogate`);
  if (n > maxBytes) refuse(`${what} is ${n} UTF-8 bytes, limit ${maxBytes}`);
  if (nonEmpty && n === 0) refuse(`${what} is empty`);
}

function checkNat(value: number, what: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) refuse(`${what} ${value} is not an integer in 0..${max}`);
}

function checkRule(broken: string | undefined): void {
  if (broken !== undefined) refuse(broken);
}

function checkVector(v: VersionVector): void {
  if (v.length > MAX_VECTOR_ENTRIES) refuse(`version vector with ${v.length} entries, limit ${MAX_VECTOR_ENTRIES}`);
  if (!isCanonical(v)) refuse('version vector not canonical (ids strictly ascending and non-empty, counters > 0)');
  for (const e of v) checkString(e.id, MAX_REPLICA_ID_LENGTH, 'version vector id');
}

/** Everything the decoder will check, before a byte is written: a journal's writer never holds half a record. */
function checkRecord(r: FileRecord, limits: CodecLimits, delta?: BlockListDelta): void {
  checkString(r.path, limits.maxPathBytes, 'path');
  if (!ENTRY_TYPES.includes(r.type)) refuse(`entry type ${String(r.type)}`);
  checkNat(r.size, 'size');
  if (!Number.isSafeInteger(r.mtime) || r.mtime < -MAX_ZIGZAG || r.mtime >= MAX_ZIGZAG) refuse(`mtime ${r.mtime}`);
  checkRule(delta ? deltaRuleBroken(r, delta, limits) : recordRuleBroken(r, limits));
  checkString(r.target, limits.maxPathBytes, 'symlink target');
  checkVector(r.version);
  checkString(r.modifiedBy, limits.maxNameBytes, 'modifiedBy');
  checkNat(r.sequence, 'sequence');
}

/** Appends one record; the state journal stores records in this same form. */
export function encodeRecord(w: ByteWriter, r: FileRecord, limits: Partial<CodecLimits> = DEFAULT_LIMITS): void {
  checkRecord(r, resolveLimits(limits));
  writeRecord(w, r);
}

function writeRecord(w: ByteWriter, r: FileRecord, delta?: BlockListDelta): void {
  w.string(r.path)
    .u8(ENTRY_TYPES.indexOf(r.type))
    .u8((r.deleted ? FLAG_DELETED : 0) | (r.executable ? FLAG_EXECUTABLE : 0))
    .varint(r.size)
    .zigzag(r.mtime)
    .bytes(r.hash);
  if (delta) {
    w.raw(delta.base).varint(delta.prefix).varint(delta.suffix).varint(delta.middle.length);
    for (const b of delta.middle) w.raw(b.hash).varint(b.size);
  } else {
    w.varint(r.blocks.length);
    for (const b of r.blocks) w.raw(b.hash).varint(b.size);
  }
  w.string(r.target);
  writeVector(w, r.version);
  w.string(r.modifiedBy).bytes(r.ancestor).varint(r.sequence);
}

function writeHello(w: ByteWriter, m: Hello, limits: CodecLimits): void {
  checkString(m.indexId, limits.maxNameBytes, 'indexId', true);
  checkString(m.knownIndexId, limits.maxNameBytes, 'knownIndexId');
  checkNat(m.maxSequence, 'maxSequence');
  checkNat(m.knownSequence, 'knownSequence');
  checkRule(hashRuleBroken(m.summary, 'summary', true));
  w.string(m.indexId)
    .varint(m.maxSequence)
    .string(m.knownIndexId)
    .varint(m.knownSequence)
    .bytes(m.summary)
    .u8(m.reply ? 1 : 0)
    .u8(m.wholeBlockLists ? 1 : 0);
}

function writeIndex(w: ByteWriter, m: IndexBatch, limits: CodecLimits): void {
  checkString(m.indexId, limits.maxNameBytes, 'indexId', true);
  checkNat(m.fromSequence, 'fromSequence');
  checkNat(m.toSequence, 'toSequence');
  checkNat(m.maxSequence, 'maxSequence');
  checkRule(rangeRuleBroken(m.fromSequence, m.toSequence, m.maxSequence));
  checkNat(m.records.length, 'record count', limits.maxRecordsPerBatch);
  for (const at of m.deltas?.keys() ?? [])
    if (!(at >= 0 && at < m.records.length)) refuse(`a delta for record ${at} of ${m.records.length}`);
  w.string(m.indexId).varint(m.fromSequence).varint(m.toSequence).varint(m.maxSequence).varint(m.records.length);
  m.records.forEach((r, i) => {
    const delta = m.deltas?.get(i);
    checkRecord(r, limits, delta);
    checkRule(sequenceRuleBroken(r.sequence, m.fromSequence, m.toSequence));
    w.u8(delta ? DELTA_LIST : WHOLE_LIST);
    writeRecord(w, r, delta);
  });
}

function writeBlockRequest(w: ByteWriter, m: BlockRequest, limits: CodecLimits): void {
  checkNat(m.id, 'request id', MAX_U32);
  checkRule(hashRuleBroken(m.hash, 'block hash', false));
  checkRule(blockSizeRuleBroken(m.size, limits));
  w.varint(m.id).raw(m.hash).varint(m.size);
}

function writeBlockResponse(w: ByteWriter, m: BlockResponse, limits: CodecLimits): void {
  checkNat(m.id, 'request id', MAX_U32);
  checkRule(hashRuleBroken(m.hash, 'block hash', false));
  const status = STATUSES.indexOf(m.status);
  if (status < 0) refuse(`block status ${String(m.status)}`);
  if (m.data.length > limits.maxBlockSize) refuse(`block of ${m.data.length} bytes, limit ${limits.maxBlockSize}`);
  if (m.status === 'notFound' && m.data.length > 0) refuse('notFound carries no data');
  w.varint(m.id).raw(m.hash).u8(status).bytes(m.data);
}

function writeSummary(w: ByteWriter, m: SummaryNotice): void {
  checkRule(hashRuleBroken(m.summary, 'summary', false));
  w.bytes(m.summary);
}

function writePayload(w: ByteWriter, m: Message, limits: CodecLimits): void {
  switch (m.type) {
    case 'hello':
      return writeHello(w, m, limits);
    case 'index':
      return writeIndex(w, m, limits);
    case 'blockRequest':
      return writeBlockRequest(w, m, limits);
    case 'blockResponse':
      return writeBlockResponse(w, m, limits);
    case 'summary':
      return writeSummary(w, m);
  }
}

function frameLimit(limits: CodecLimits): number {
  return Math.min(limits.maxFrameSize, MAX_U32);
}

/**
 * The whole frame: u32 big-endian length, version, type, payload. Throws RangeError for a message
 * the decoder would refuse, including one that makes a frame over `maxFrameSize` (the message
 * starts with `frameTooLarge:` then, so a sender can split its batch).
 */
export function encodeMessage(m: Message, limits: Partial<CodecLimits> = DEFAULT_LIMITS): Uint8Array {
  const resolved = resolveLimits(limits);
  const code = TYPE_CODES[m.type];
  if (code === undefined) refuse(`message type ${String(m.type)}`);
  // The length goes in front once known; patching four bytes beats copying a 64 MiB body.
  const w = new ByteWriter().u32be(0).u8(PROTOCOL_VERSION).u8(code);
  writePayload(w, m, resolved);
  const n = w.length - FRAME_HEADER_BYTES;
  if (n > frameLimit(resolved)) throw new RangeError(`frameTooLarge: frame of ${n} bytes over ${frameLimit(resolved)}`);
  const frame = w.finish();
  frame[0] = n >>> 24;
  frame[1] = (n >>> 16) & 0xff;
  frame[2] = (n >>> 8) & 0xff;
  frame[3] = n & 0xff;
  return frame;
}

// ---- decoding ------------------------------------------------------------------------------

/** Any non-DecodeError escaping a decoder is a codec bug, but to the caller it is still bad input. */
function guarded<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('badValue', `malformed input (${err instanceof Error ? err.message : String(err)})`);
  }
}

function check(broken: string | undefined): void {
  if (broken !== undefined) throw new DecodeError('badValue', broken);
}

/**
 * Length of the frame body announced by the first 4 bytes of `header`, for splitting a stream.
 * Refuses an oversized frame before its body is read or buffered.
 */
export function frameLength(header: Uint8Array, limits: Partial<CodecLimits> = DEFAULT_LIMITS): number {
  if (header.length < FRAME_HEADER_BYTES)
    throw new DecodeError('truncated', `frame header needs ${FRAME_HEADER_BYTES} bytes, have ${header.length}`);
  const n = new ByteReader(header.subarray(0, FRAME_HEADER_BYTES)).u32be();
  const max = frameLimit(resolveLimits(limits));
  if (n > max) throw new DecodeError('frameTooLarge', `frame of ${n} bytes over ${max}`);
  if (n < 2) throw new DecodeError('truncated', `frame of ${n} bytes cannot hold version and type`);
  return n;
}

/** Decodes exactly one whole frame, header included; `lengthMismatch` if the header disagrees with `frame.length`. */
export function decodeMessage(frame: Uint8Array, limits: Partial<CodecLimits> = DEFAULT_LIMITS): Message {
  const resolved = resolveLimits(limits);
  return guarded(() => {
    const n = frameLength(frame, resolved);
    if (frame.length !== FRAME_HEADER_BYTES + n) {
      throw new DecodeError('lengthMismatch', `header says ${n} bytes, frame has ${frame.length - FRAME_HEADER_BYTES}`);
    }
    const r = new ByteReader(frame.subarray(FRAME_HEADER_BYTES));
    const version = r.u8();
    if (version !== PROTOCOL_VERSION) {
      throw new DecodeError('unknownVersion', `protocol version ${version}, this side speaks ${PROTOCOL_VERSION}`);
    }
    const m = readPayload(r, r.u8(), resolved);
    r.end();
    return m;
  });
}

/** Reads one record written by `encodeRecord`. Byte arrays are copies: the caller may keep them. */
/**
 * With `withInode`, a varint after the record is read as its local inode (the state's form; 0,
 * unknown, is kept as 0): one object literal either way, because adding the property afterwards
 * costs every record a separate property array.
 */
export function decodeRecord(r: ByteReader, limits: Partial<CodecLimits> = DEFAULT_LIMITS, withInode = false): FileRecord {
  const resolved = resolveLimits(limits);
  return guarded(() => readRecord(r, resolved, withInode));
}

function readPayload(r: ByteReader, code: number, limits: CodecLimits): Message {
  switch (code) {
    case TYPE_CODES.hello:
      return readHello(r, limits);
    case TYPE_CODES.index:
      return readIndex(r, limits);
    case TYPE_CODES.blockRequest:
      return readBlockRequest(r, limits);
    case TYPE_CODES.blockResponse:
      return readBlockResponse(r, limits);
    case TYPE_CODES.summary:
      return readSummary(r);
    default:
      throw new DecodeError('unknownType', `message type ${code}`);
  }
}

function readIndexId(r: ByteReader, limits: CodecLimits, what: string, nonEmpty: boolean): string {
  const id = r.string(limits.maxNameBytes);
  // The empty string means "nothing known" in knownIndexId, so no real index may be called that.
  if (nonEmpty && id.length === 0) throw new DecodeError('badValue', `${what} is empty`);
  return id;
}

/** Variable-length hash field: a varint length that must be 0 (when allowed) or 32, then the bytes. */
function readHash(r: ByteReader, what: string, optional: boolean): Uint8Array {
  const n = r.varint();
  if (n !== HASH_BYTES && !(optional && n === 0)) {
    throw new DecodeError('badValue', `${what} is ${n} bytes, expected ${optional ? '0 or ' : ''}${HASH_BYTES}`);
  }
  return compactCopy(r.raw(n));
}

function readRawHash(r: ByteReader): Uint8Array {
  return compactCopy(r.raw(HASH_BYTES));
}

function readEntryType(r: ByteReader): EntryType {
  const code = r.u8();
  const type = ENTRY_TYPES[code];
  if (type === undefined) throw new DecodeError('badValue', `unknown entry type ${code}`);
  return type;
}

function readFlags(r: ByteReader): number {
  const flags = r.u8();
  // A flag this version does not know would be silently dropped and the record changed in transit.
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new DecodeError('badValue', `unknown record flags 0x${flags.toString(16)}`);
  return flags;
}

function readBlocks(r: ByteReader, limits: CodecLimits): BlockRef[] {
  const count = r.varint();
  if (count > limits.maxBlocksPerRecord) throw new DecodeError('badValue', `${count} blocks, limit ${limits.maxBlocksPerRecord}`);
  if (count * MIN_BLOCK_BYTES > r.remaining) throw new DecodeError('truncated', `${count} blocks cannot fit in ${r.remaining} bytes`);
  // Sized up front: a pushed-to array keeps room for 16 entries, and most records have one block.
  const blocks = new Array<BlockRef>(count);
  for (let i = 0; i < count; i++) {
    const hash = readRawHash(r);
    const size = r.varint();
    check(blockSizeRuleBroken(size, limits));
    blocks[i] = { hash, size };
  }
  return blocks;
}

function readDelta(r: ByteReader, limits: CodecLimits): BlockListDelta {
  const base = readRawHash(r);
  const prefix = r.varint();
  const suffix = r.varint();
  const middle = readBlocks(r, limits);
  return { base, prefix, suffix, middle };
}

/** With `delta`, the record's block list is read as a delta into `delta.read` and its `blocks` left empty. */
function readRecord(r: ByteReader, limits: CodecLimits, withInode = false, delta?: { read?: BlockListDelta }): FileRecord {
  const path = r.string(limits.maxPathBytes);
  const type = readEntryType(r);
  const flags = readFlags(r);
  const size = r.varint();
  const mtime = r.zigzag();
  const hash = readHash(r, 'content hash', true);
  if (delta) delta.read = readDelta(r, limits);
  const blocks = delta ? [] : readBlocks(r, limits);
  const target = r.string(limits.maxPathBytes);
  const version = readVector(r);
  const modifiedBy = intern(r.string(limits.maxNameBytes));
  const ancestor = readHash(r, 'ancestor hash', true);
  const sequence = r.varint();
  const deleted = (flags & FLAG_DELETED) !== 0;
  const executable = (flags & FLAG_EXECUTABLE) !== 0;
  const record: FileRecord = withInode
    ? { path, type, deleted, size, mtime, executable, hash, blocks, target, version, modifiedBy, ancestor, sequence, inode: r.varint() }
    : { path, type, deleted, size, mtime, executable, hash, blocks, target, version, modifiedBy, ancestor, sequence };
  check(delta ? deltaRuleBroken(record, delta.read!, limits) : recordRuleBroken(record, limits));
  return record;
}

function readHello(r: ByteReader, limits: CodecLimits): Hello {
  const indexId = readIndexId(r, limits, 'indexId', true);
  const maxSequence = r.varint();
  const knownIndexId = readIndexId(r, limits, 'knownIndexId', false);
  const knownSequence = r.varint();
  const summary = readHash(r, 'summary', true);
  const reply = r.u8();
  if (reply > 1) throw new DecodeError('badValue', `reply flag ${reply}, expected 0 or 1`);
  const whole = r.u8();
  if (whole > 1) throw new DecodeError('badValue', `whole-block-lists flag ${whole}, expected 0 or 1`);
  return { type: 'hello', indexId, maxSequence, knownIndexId, knownSequence, summary, reply: reply === 1, wholeBlockLists: whole === 1 };
}

function readIndex(r: ByteReader, limits: CodecLimits): IndexBatch {
  const indexId = readIndexId(r, limits, 'indexId', true);
  const fromSequence = r.varint();
  const toSequence = r.varint();
  const maxSequence = r.varint();
  check(rangeRuleBroken(fromSequence, toSequence, maxSequence));
  const count = r.varint();
  if (count > limits.maxRecordsPerBatch)
    throw new DecodeError('badValue', `${count} records in one batch, limit ${limits.maxRecordsPerBatch}`);
  if (count * MIN_RECORD_BYTES > r.remaining) throw new DecodeError('truncated', `${count} records cannot fit in ${r.remaining} bytes`);
  const records: FileRecord[] = [];
  const deltas = new Map<number, BlockListDelta>();
  for (let i = 0; i < count; i++) {
    const form = r.u8();
    if (form !== WHOLE_LIST && form !== DELTA_LIST) throw new DecodeError('badValue', `block list form ${form}, expected 0 or 1`);
    const delta: { read?: BlockListDelta } | undefined = form === DELTA_LIST ? {} : undefined;
    const record = readRecord(r, limits, false, delta);
    check(sequenceRuleBroken(record.sequence, fromSequence, toSequence));
    if (delta) deltas.set(i, delta.read!);
    records.push(record);
  }
  return { type: 'index', indexId, fromSequence, toSequence, maxSequence, records, ...(deltas.size > 0 ? { deltas } : {}) };
}

function readRequestId(r: ByteReader): number {
  const id = r.varint();
  if (id > MAX_U32) throw new DecodeError('badValue', `request id ${id} over 2^32 - 1`);
  return id;
}

function readBlockRequest(r: ByteReader, limits: CodecLimits): BlockRequest {
  const id = readRequestId(r);
  const hash = readRawHash(r);
  const size = r.varint();
  check(blockSizeRuleBroken(size, limits));
  return { type: 'blockRequest', id, hash, size };
}

function readBlockResponse(r: ByteReader, limits: CodecLimits): BlockResponse {
  const id = readRequestId(r);
  const hash = readRawHash(r);
  const code = r.u8();
  const status = STATUSES[code];
  if (status === undefined) throw new DecodeError('badValue', `block status ${code}`);
  const data = r.bytes(limits.maxBlockSize).slice();
  if (status === 'notFound' && data.length > 0) throw new DecodeError('badValue', 'notFound carries no data');
  return { type: 'blockResponse', id, hash, status, data };
}

function readSummary(r: ByteReader): SummaryNotice {
  return { type: 'summary', summary: readHash(r, 'summary', false) };
}
