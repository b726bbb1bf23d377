import type { BlockRef, FileRecord } from '../file-record';
import type { EntryType } from '../ports';
import { readVector, writeVector } from '../version-vector';
import type { BlockResponse, BlockStatus, Message, MessageType } from './messages';
import { ByteReader, ByteWriter, DecodeError } from './wire';

/** Bumped on any change to the bytes below, together with docs/PROTOCOL.md. */
export const PROTOCOL_VERSION = 1;

export interface CodecLimits {
  readonly maxFrameSize: number;
  readonly maxPathBytes: number;
  readonly maxRecordsPerBatch: number;
  readonly maxBlocksPerRecord: number;
  readonly maxNameBytes: number;
  readonly maxBlockSize: number;
}

export const DEFAULT_LIMITS: CodecLimits = {
  maxFrameSize: 64 * 1024 * 1024,
  maxPathBytes: 4096,
  maxRecordsPerBatch: 100_000,
  maxBlocksPerRecord: 4_000_000,
  maxNameBytes: 256,
  maxBlockSize: 1024 * 1024,
};

const TYPE_CODES: Record<MessageType, number> = { hello: 1, index: 2, blockRequest: 3, blockResponse: 4, summary: 5 };
const ENTRY_TYPES: readonly EntryType[] = ['file', 'directory', 'symlink'];
const STATUSES: readonly BlockStatus[] = ['ok', 'notFound'];
const FLAG_DELETED = 1;
const FLAG_EXECUTABLE = 2;
const HASH_BYTES = 32;

export function encodeRecord(w: ByteWriter, r: FileRecord): void {
  w.string(r.path)
    .u8(ENTRY_TYPES.indexOf(r.type))
    .u8((r.deleted ? FLAG_DELETED : 0) | (r.executable ? FLAG_EXECUTABLE : 0))
    .varint(r.size)
    .zigzag(r.mtime)
    .bytes(r.hash)
    .varint(r.blocks.length);
  for (const b of r.blocks) w.raw(b.hash).varint(b.size);
  w.string(r.target);
  writeVector(w, r.version);
  w.string(r.modifiedBy).bytes(r.ancestor).varint(r.sequence);
}

function readHash(r: ByteReader, what: string, optional: boolean): Uint8Array {
  const h = r.bytes(HASH_BYTES);
  if (h.length !== HASH_BYTES && !(optional && h.length === 0)) throw new DecodeError('badValue', `${what} must be ${HASH_BYTES} bytes`);
  return h.slice();
}

export function decodeRecord(r: ByteReader, limits: CodecLimits = DEFAULT_LIMITS): FileRecord {
  const path = r.string(limits.maxPathBytes);
  const typeCode = r.u8();
  const type = ENTRY_TYPES[typeCode];
  if (type === undefined) throw new DecodeError('badValue', `unknown entry type ${typeCode}`);
  const flags = r.u8();
  if (flags & ~(FLAG_DELETED | FLAG_EXECUTABLE)) throw new DecodeError('badValue', `unknown flags ${flags}`);
  const size = r.varint();
  const mtime = r.zigzag();
  const hash = readHash(r, 'content hash', true);
  const count = r.varint();
  if (count > limits.maxBlocksPerRecord || count * (HASH_BYTES + 1) > r.remaining) {
    throw new DecodeError('badValue', `block count ${count} exceeds limits`);
  }
  const blocks: BlockRef[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const blockHash = r.raw(HASH_BYTES).slice();
    const blockSize = r.varint();
    if (blockSize === 0 || blockSize > limits.maxBlockSize) throw new DecodeError('badValue', `block size ${blockSize}`);
    total += blockSize;
    blocks.push({ hash: blockHash, size: blockSize });
  }
  const deleted = (flags & FLAG_DELETED) !== 0;
  if (count > 0 && (type !== 'file' || deleted)) throw new DecodeError('badValue', 'only live files have blocks');
  if (type === 'file' && !deleted && total !== size) throw new DecodeError('badValue', `blocks add up to ${total}, size is ${size}`);
  const target = r.string(limits.maxPathBytes);
  const version = readVector(r);
  const modifiedBy = r.string(limits.maxNameBytes);
  const ancestor = readHash(r, 'ancestor hash', true);
  const sequence = r.varint();
  return {
    path,
    type,
    deleted,
    size,
    mtime,
    executable: (flags & FLAG_EXECUTABLE) !== 0,
    hash,
    blocks,
    target,
    version,
    modifiedBy,
    ancestor,
    sequence,
  };
}

function encodePayload(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case 'hello':
      w.string(m.indexId).varint(m.maxSequence).string(m.knownIndexId).varint(m.knownSequence).bytes(m.summary).u8(m.reply ? 1 : 0);
      return;
    case 'index':
      w.string(m.indexId).varint(m.fromSequence).varint(m.toSequence).varint(m.maxSequence).varint(m.records.length);
      for (const r of m.records) encodeRecord(w, r);
      return;
    case 'blockRequest':
      w.varint(m.id).raw(m.hash).varint(m.size);
      return;
    case 'blockResponse':
      w.varint(m.id).raw(m.hash).u8(STATUSES.indexOf(m.status)).bytes(m.data);
      return;
    case 'summary':
      w.bytes(m.summary);
      return;
  }
}

/** The whole frame: u32 big-endian length, version, type, payload. */
export function encodeMessage(m: Message, limits: CodecLimits = DEFAULT_LIMITS): Uint8Array {
  const body = new ByteWriter().u8(PROTOCOL_VERSION).u8(TYPE_CODES[m.type]);
  encodePayload(body, m);
  if (body.length > limits.maxFrameSize) throw new DecodeError('frameTooLarge', `frame of ${body.length} bytes over ${limits.maxFrameSize}`);
  const bytes = body.finish();
  return new ByteWriter().u32be(bytes.length).raw(bytes).finish();
}

/** Length of the frame body announced by a 4-byte header; refuses oversized frames before reading them. */
export function frameLength(header: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): number {
  if (header.length < 4) throw new DecodeError('truncated', 'frame header needs 4 bytes');
  const n = new ByteReader(header.subarray(0, 4)).u32be();
  if (n > limits.maxFrameSize) throw new DecodeError('frameTooLarge', `frame of ${n} bytes over ${limits.maxFrameSize}`);
  if (n < 2) throw new DecodeError('badValue', `frame of ${n} bytes has no version and type`);
  return n;
}

export function decodeMessage(frame: Uint8Array, partialLimits: Partial<CodecLimits> = {}): Message {
  const limits = { ...DEFAULT_LIMITS, ...partialLimits };
  try {
    const n = frameLength(frame, limits);
    if (frame.length !== n + 4) throw new DecodeError('lengthMismatch', `header says ${n} bytes, frame has ${frame.length - 4}`);
    const r = new ByteReader(frame.subarray(4));
    const version = r.u8();
    if (version !== PROTOCOL_VERSION) throw new DecodeError('unknownVersion', `protocol version ${version}, this side speaks ${PROTOCOL_VERSION}`);
    const m = decodePayload(r, r.u8(), limits);
    r.end();
    return m;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('badValue', err instanceof Error ? err.message : String(err));
  }
}

function decodePayload(r: ByteReader, code: number, limits: CodecLimits): Message {
  switch (code) {
    case 1: {
      const indexId = r.string(limits.maxNameBytes);
      const maxSequence = r.varint();
      const knownIndexId = r.string(limits.maxNameBytes);
      const knownSequence = r.varint();
      const summary = readHash(r, 'summary', true);
      const reply = r.u8();
      if (reply > 1) throw new DecodeError('badValue', `reply flag ${reply}`);
      return { type: 'hello', indexId, maxSequence, knownIndexId, knownSequence, summary, reply: reply === 1 };
    }
    case 2: {
      const indexId = r.string(limits.maxNameBytes);
      const fromSequence = r.varint();
      const toSequence = r.varint();
      const maxSequence = r.varint();
      if (fromSequence > toSequence || toSequence > maxSequence) {
        throw new DecodeError('badValue', `sequence range (${fromSequence}, ${toSequence}] with max ${maxSequence}`);
      }
      const count = r.varint();
      if (count > limits.maxRecordsPerBatch) throw new DecodeError('badValue', `${count} records in one batch`);
      const records: FileRecord[] = [];
      for (let i = 0; i < count; i++) records.push(decodeRecord(r, limits));
      return { type: 'index', indexId, fromSequence, toSequence, maxSequence, records };
    }
    case 3: {
      const id = readRequestId(r);
      const hash = r.raw(HASH_BYTES).slice();
      const size = r.varint();
      if (size === 0 || size > limits.maxBlockSize) throw new DecodeError('badValue', `block size ${size}`);
      return { type: 'blockRequest', id, hash, size };
    }
    case 4: {
      const id = readRequestId(r);
      const hash = r.raw(HASH_BYTES).slice();
      const statusCode = r.u8();
      const status = STATUSES[statusCode];
      if (status === undefined) throw new DecodeError('badValue', `block status ${statusCode}`);
      const data = r.bytes(limits.maxBlockSize).slice();
      if (status === 'notFound' && data.length > 0) throw new DecodeError('badValue', 'notFound carries no data');
      const response: BlockResponse = { type: 'blockResponse', id, hash, status, data };
      return response;
    }
    case 5: {
      const summary = r.bytes(HASH_BYTES);
      if (summary.length !== HASH_BYTES) throw new DecodeError('badValue', 'summary must be 32 bytes');
      return { type: 'summary', summary: summary.slice() };
    }
    default:
      throw new DecodeError('unknownType', `message type ${code}`);
  }
}

function readRequestId(r: ByteReader): number {
  const id = r.varint();
  if (id > 0xffffffff) throw new DecodeError('badValue', `request id ${id}`);
  return id;
}
