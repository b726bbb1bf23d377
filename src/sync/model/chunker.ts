/**
 * Content-defined chunking after FastCDC (Xia et al., USENIX ATC 2016; IEEE TPDS 2020): a gear
 * rolling hash, a cut where the hash's masked bits are all zero, a stricter mask before the
 * average size and a looser one after it (normalised chunking, level 2), so that boundaries follow
 * content and an edit moves only the chunks around it.
 *
 * The exact algorithm is part of the protocol: every replica must cut every file at the same
 * offsets forever, or equal files stop sharing blocks. docs/CHUNKING.md describes it byte by byte;
 * test/unit/sync/model/chunker.test.ts freezes a test vector. Any change here is a protocol change.
 */

export interface ChunkingParams {
  /** No cut before this many bytes (except for the end of the data). */
  readonly minSize: number;
  /** The target chunk size; a power of two, as it sets the mask widths. */
  readonly avgSize: number;
  /** A cut is forced here if the content offered none. */
  readonly maxSize: number;
}

export const DEFAULT_CHUNKING: ChunkingParams = { minSize: 8 * 1024, avgSize: 32 * 1024, maxSize: 128 * 1024 };

/** Seed of the gear table ("SHAR" in ASCII); changing it changes every boundary of every file. */
export const GEAR_SEED = 0x53484152;

/**
 * splitmix32: a Weyl sequence (step 0x9e3779b9, the 32-bit golden ratio) through the MurmurHash3
 * finaliser. Chosen because it is a few lines in any language, so other implementations can
 * rebuild the table instead of copying 256 constants.
 */
function splitmix32Table(seed: number, length: number): Uint32Array {
  const table = new Uint32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return table;
}

/** The gear table: one pseudo-random 32-bit value per byte value. */
export const GEAR: Uint32Array = splitmix32Table(GEAR_SEED, 256);

/**
 * The same bits read as signed integers: V8 keeps int32 values unboxed ("small integers"), while
 * unsigned values above 2^31 become heap numbers, which would slow the per-byte loop.
 */
const GEAR_I32 = new Int32Array(GEAR.buffer, GEAR.byteOffset, GEAR.length);

const MIN_AVG_BITS = 4;
const MAX_AVG_BITS = 28;
/** Far above what the protocol's block messages carry; only there to bound memory. */
const MAX_MAX_SIZE = 1 << 30;

/** Masks as int32, for the same reason as GEAR_I32. */
interface Masks {
  /** Used before avgSize: more bits, so cuts are rarer and chunks rarely come out small. */
  readonly strict: number;
  /** Used from avgSize on: fewer bits, so a cut comes soon and chunks rarely reach maxSize. */
  readonly loose: number;
}

/**
 * A mask of the `ones` most significant bits. The gear hash shifts left, so bit k depends only
 * on the last k + 1 bytes: the top bits see the widest window (32 bytes) and are the ones to test.
 */
function topBits(ones: number): number {
  return ones >= 32 ? -1 : (-1 << (32 - ones)) | 0;
}

/** Throws a RangeError naming the problem unless the parameters are usable; returns the masks. */
export function validateChunking(p: ChunkingParams): Masks {
  const { minSize, avgSize, maxSize } = p;
  if (![minSize, avgSize, maxSize].every((n) => Number.isSafeInteger(n))) {
    throw new RangeError(`chunk sizes must be integers (got min ${minSize}, avg ${avgSize}, max ${maxSize})`);
  }
  const bits = Math.log2(avgSize);
  if (!Number.isInteger(bits) || bits < MIN_AVG_BITS || bits > MAX_AVG_BITS) {
    throw new RangeError(`average chunk size ${avgSize} must be a power of two from 2^${MIN_AVG_BITS} to 2^${MAX_AVG_BITS}`);
  }
  if (!(minSize >= 1 && minSize < avgSize && avgSize < maxSize && maxSize <= MAX_MAX_SIZE)) {
    throw new RangeError(`chunk sizes must satisfy 1 <= min < avg < max <= 2^30 (got min ${minSize}, avg ${avgSize}, max ${maxSize})`);
  }
  return { strict: topBits(bits + 2), loose: topBits(bits - 2) };
}

/**
 * Where the scan of the open chunk stands, so a chunk can span any number of input buffers.
 * `length` counts the chunk's bytes seen so far; `hash` is the gear hash over those from minSize on.
 */
interface ScanState {
  length: number;
  hash: number;
}

/**
 * The gear hash after the last `gearRun` that found no cut. A module-level register rather than a
 * returned pair, so the per-byte loop's caller allocates nothing.
 */
let runHash = 0;

/**
 * Rolls the gear hash `h` over data[i, stop) and returns the index just past the first byte after
 * which `h & mask` is zero, or -1 (leaving the hash in `runHash`). Unrolled by four, which V8 turns
 * into noticeably faster code than the plain loop; the results are the same byte for byte.
 */
function gearRun(data: Uint8Array, i: number, stop: number, h: number, mask: number): number {
  const gear = GEAR_I32;
  for (; i + 4 <= stop; i += 4) {
    h = ((h << 1) + gear[data[i]!]!) | 0;
    if ((h & mask) === 0) return i + 1;
    h = ((h << 1) + gear[data[i + 1]!]!) | 0;
    if ((h & mask) === 0) return i + 2;
    h = ((h << 1) + gear[data[i + 2]!]!) | 0;
    if ((h & mask) === 0) return i + 3;
    h = ((h << 1) + gear[data[i + 3]!]!) | 0;
    if ((h & mask) === 0) return i + 4;
  }
  for (; i < stop; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0;
    if ((h & mask) === 0) return i + 1;
  }
  runHash = h;
  return -1;
}

/**
 * Feeds data[from, end) to the open chunk described by `state`. Returns the index in `data` just
 * past the chunk's last byte if the chunk ends within this range (and resets `state` for the next
 * chunk), or -1 if all of the range belongs to the chunk, which stays open.
 *
 * The rule depends only on each byte's offset within its chunk and the bytes themselves, never on
 * how the input was split, which is what makes streaming and one-shot agree.
 */
function scan(state: ScanState, data: Uint8Array, from: number, end: number, p: ChunkingParams, masks: Masks): number {
  let i = from;
  let length = state.length;
  let h = state.hash;

  // Bytes before minSize can never end a chunk, so they are not even hashed.
  if (length < p.minSize) {
    const skip = Math.min(p.minSize - length, end - i);
    i += skip;
    length += skip;
  }
  if (length >= p.minSize && length < p.avgSize) {
    const stop = Math.min(end, i + (p.avgSize - length));
    const at = gearRun(data, i, stop, h, masks.strict);
    if (at >= 0) return cut(state, at);
    h = runHash;
    length += stop - i;
    i = stop;
  }
  if (length >= p.avgSize) {
    const stop = Math.min(end, i + (p.maxSize - length));
    const at = gearRun(data, i, stop, h, masks.loose);
    if (at >= 0) return cut(state, at);
    h = runHash;
    length += stop - i;
    i = stop;
    if (length === p.maxSize) return cut(state, i);
  }
  state.length = length;
  state.hash = h;
  return -1;
}

function cut(state: ScanState, at: number): number {
  state.length = 0;
  state.hash = 0;
  return at;
}

/** End offsets of the chunks of `data`, ascending; the last equals data.length. Empty data: none. */
export function chunkBoundaries(data: Uint8Array, params: ChunkingParams = DEFAULT_CHUNKING): number[] {
  const masks = validateChunking(params);
  const state: ScanState = { length: 0, hash: 0 };
  const ends: number[] = [];
  let start = 0;
  for (;;) {
    const end = scan(state, data, start, data.length, params, masks);
    if (end < 0) break;
    ends.push(end);
    start = end;
  }
  // What is left is a chunk that met the end of the data before a cut: the short tail.
  if (start < data.length) ends.push(data.length);
  return ends;
}

/**
 * Chunks a stream handed over in pieces of any size, with the same boundaries as
 * `chunkBoundaries` of the whole. Memory is bounded by maxSize: only the open chunk's bytes are
 * kept between pushes, and they never reach maxSize (a chunk is cut there).
 */
export class Chunker {
  private readonly masks: Masks;
  private readonly state: ScanState = { length: 0, hash: 0 };
  /** The open chunk's bytes from earlier pushes; allocated on first need. */
  private carry: Uint8Array | undefined;
  private carried = 0;

  constructor(private readonly params: ChunkingParams = DEFAULT_CHUNKING) {
    this.masks = validateChunking(params);
  }

  /**
   * Returns the chunks that `piece` completes, in order. A chunk lying wholly inside `piece` is a
   * view of it (no copy, for speed): use or copy the chunks before changing `piece`.
   */
  push(piece: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      const end = scan(this.state, piece, start, piece.length, this.params, this.masks);
      if (end < 0) break;
      out.push(this.carried === 0 ? piece.subarray(start, end) : this.joinCarry(piece.subarray(start, end)));
      start = end;
    }
    this.keep(piece.subarray(start));
    return out;
  }

  /** The tail: the chunk still open at the end of the stream, if any. The chunker is then reset. */
  finish(): Uint8Array | undefined {
    const tail = this.carried === 0 ? undefined : this.carry!.slice(0, this.carried);
    this.carried = 0;
    this.state.length = 0;
    this.state.hash = 0;
    return tail;
  }

  private joinCarry(rest: Uint8Array): Uint8Array {
    const chunk = new Uint8Array(this.carried + rest.length);
    chunk.set(this.carry!.subarray(0, this.carried));
    chunk.set(rest, this.carried);
    this.carried = 0;
    return chunk;
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // The open chunk is shorter than maxSize (scan cuts there), so the carry always has room.
    this.carry ??= new Uint8Array(this.params.maxSize);
    this.carry.set(bytes, this.carried);
    this.carried += bytes.length;
  }
}
