/**
 * src/node/disk/bases/: merge bases on disk, compressed together in a few append-only pack
 * files (base-packs.ts); this file is the byte format of one chunk of a pack.
 *
 * A chunk holds several bases, compressed as one stream (small texts of one folder share most of
 * their words, so together they compress to about half of what each would alone), and says what
 * it holds in a header of its own, so a pack is read by walking its chunks, with no index file:
 *
 *   u32 header length H | u32 CRC-32 of the header | header (H bytes) | payload (P bytes)
 *   header: u8 format (1) | u8 codec (1: brotli) | u16 0 | u32 P | u32 CRC-32 of the payload |
 *           u32 count N | N x (32-byte content hash | u32 length)
 *   payload: the N bases' bytes, one after another in header order, compressed by the codec.
 *
 * All integers are little-endian. A header whose CRC fails, or a chunk that runs past the end
 * of its file (a write cut short by a crash), ends what can be read of a pack.
 */
import { crc32 } from '../state/crc32';

export const CHUNK_FORMAT = 1;
export const CODEC_BROTLI = 1;
/** The fixed part of a header, before its entries. */
const HEADER_FIXED = 16;
const ENTRY_BYTES = 36;
/** The two u32 before the header. */
export const CHUNK_PREFIX = 8;
/** Bounds a corrupt length cannot pass: a chunk holds at most this many bases, and this many payload bytes. */
export const MAX_CHUNK_ENTRIES = 1 << 16;
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export interface ChunkEntry {
  /** The base's content hash, 32 bytes. */
  readonly hash: Uint8Array;
  readonly length: number;
}

export interface ChunkHeader {
  readonly codec: number;
  readonly payloadLength: number;
  readonly payloadCrc: number;
  readonly entries: readonly ChunkEntry[];
  /** Bytes from the chunk's start to its payload. */
  readonly headerBytes: number;
}

/** The header and prefix of a chunk whose payload is `payload`. */
export function encodeChunkHeader(entries: readonly ChunkEntry[], payload: Uint8Array): Uint8Array {
  const h = HEADER_FIXED + ENTRY_BYTES * entries.length;
  const out = new Uint8Array(CHUNK_PREFIX + h);
  const view = new DataView(out.buffer);
  view.setUint32(0, h, true);
  out[8] = CHUNK_FORMAT;
  out[9] = CODEC_BROTLI;
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32(payload), true);
  view.setUint32(20, entries.length, true);
  let at = CHUNK_PREFIX + HEADER_FIXED;
  for (const e of entries) {
    if (e.hash.length !== 32) throw new Error(`a content hash has 32 bytes, not ${e.hash.length}`);
    out.set(e.hash, at);
    view.setUint32(at + 32, e.length, true);
    at += ENTRY_BYTES;
  }
  view.setUint32(4, crc32(out.subarray(CHUNK_PREFIX)), true);
  return out;
}

/** The header length a chunk's prefix announces, or undefined if no header could be that long. */
export function headerLengthOf(prefix: Uint8Array): number | undefined {
  const h = new DataView(prefix.buffer, prefix.byteOffset, CHUNK_PREFIX).getUint32(0, true);
  const entries = (h - HEADER_FIXED) / ENTRY_BYTES;
  return h >= HEADER_FIXED && Number.isInteger(entries) && entries <= MAX_CHUNK_ENTRIES ? h : undefined;
}

/**
 * Reads a chunk's header from `bytes` (its prefix and header, as `headerLengthOf` sized them);
 * undefined when it is not a whole, intact header of a format this code knows.
 */
export function decodeChunkHeader(bytes: Uint8Array): ChunkHeader | undefined {
  if (bytes.length < CHUNK_PREFIX) return undefined;
  const h = headerLengthOf(bytes);
  if (h === undefined || bytes.length < CHUNK_PREFIX + h) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, CHUNK_PREFIX + h);
  if (crc32(bytes.subarray(CHUNK_PREFIX, CHUNK_PREFIX + h)) !== view.getUint32(4, true)) return undefined;
  if (bytes[8] !== CHUNK_FORMAT || bytes[9] !== CODEC_BROTLI) return undefined;
  const payloadLength = view.getUint32(12, true);
  const count = view.getUint32(20, true);
  if (payloadLength > MAX_PAYLOAD_BYTES || HEADER_FIXED + ENTRY_BYTES * count !== h) return undefined;
  const entries: ChunkEntry[] = [];
  let at = CHUNK_PREFIX + HEADER_FIXED;
  for (let i = 0; i < count; i++) {
    entries.push({ hash: bytes.slice(at, at + 32), length: view.getUint32(at + 32, true) });
    at += ENTRY_BYTES;
  }
  return { codec: CODEC_BROTLI, payloadLength, payloadCrc: view.getUint32(16, true), entries, headerBytes: CHUNK_PREFIX + h };
}

/** Whether a payload read back is the one its header describes. */
export function payloadIntact(header: Pick<ChunkHeader, 'payloadLength' | 'payloadCrc'>, payload: Uint8Array): boolean {
  return payload.length === header.payloadLength && crc32(payload) === header.payloadCrc;
}
