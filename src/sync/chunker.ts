/**
 * Content-defined chunking after FastCDC (Xia et al. 2016/2020): a gear rolling hash, cut points
 * where the hash's top bits are zero, a stricter mask before the average size and a looser one
 * after it (normalised chunking), so boundaries follow content and an insert moves only the
 * chunks around it. The exact algorithm is part of the protocol: see docs/CHUNKING.md.
 */

export interface ChunkingParams {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
}

export const DEFAULT_CHUNKING: ChunkingParams = { minSize: 8 * 1024, avgSize: 32 * 1024, maxSize: 128 * 1024 };

/** Fixed seed of the gear table; changing it changes every boundary of every file. */
export const GEAR_SEED = 0x53484152;

export const GEAR: Uint32Array = makeGear(GEAR_SEED);

function makeGear(seed: number): Uint32Array {
  // splitmix32: a tiny generator anyone can reimplement to reproduce the table.
  const table = new Uint32Array(256);
  let state = seed >>> 0;
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    table[i] = z >>> 0;
  }
  return table;
}

/** A mask of the `ones` most significant bits: those depend on the most input bytes. */
function topBits(ones: number): number {
  return ones >= 32 ? 0xffffffff : ((0xffffffff << (32 - ones)) >>> 0);
}

interface Masks {
  readonly strict: number;
  readonly loose: number;
}

export function validateChunking(p: ChunkingParams): Masks {
  const bits = Math.log2(p.avgSize);
  if (!Number.isInteger(bits) || bits < 6 || bits > 28) throw new RangeError(`average chunk size ${p.avgSize} must be a power of two between 64 B and 256 MiB`);
  if (!(Number.isInteger(p.minSize) && p.minSize >= 1 && p.minSize < p.avgSize && p.avgSize < p.maxSize && Number.isInteger(p.maxSize))) {
    throw new RangeError(`chunk sizes must satisfy 1 <= min < avg < max (got ${p.minSize}/${p.avgSize}/${p.maxSize})`);
  }
  return { strict: topBits(bits + 2), loose: topBits(bits - 2) };
}

/**
 * Length of the chunk that starts at `start`, or -1 if `final` is false and the data ends before
 * a cut point could be decided.
 */
export function nextCut(data: Uint8Array, start: number, end: number, p: ChunkingParams, masks: Masks, final: boolean): number {
  const n = end - start;
  if (n <= p.minSize) return final || n === p.maxSize ? n : -1;
  const normal = start + Math.min(p.avgSize, n);
  const limit = start + Math.min(p.maxSize, n);
  const gear = GEAR;
  const { strict, loose } = masks;
  let h = 0;
  let i = start + p.minSize;
  for (; i < normal; i++) {
    h = ((h << 1) + gear[data[i]!]!) >>> 0;
    if ((h & strict) === 0) return i + 1 - start;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + gear[data[i]!]!) >>> 0;
    if ((h & loose) === 0) return i + 1 - start;
  }
  if (limit - start === p.maxSize || final) return limit - start;
  return -1;
}

/** End offsets of the chunks of `data`. */
export function chunkBoundaries(data: Uint8Array, params: ChunkingParams = DEFAULT_CHUNKING): number[] {
  const masks = validateChunking(params);
  const out: number[] = [];
  let start = 0;
  while (start < data.length) {
    start += nextCut(data, start, data.length, params, masks, true);
    out.push(start);
  }
  return out;
}

/** Chunks a stream given in pieces of any size; the boundaries equal `chunkBoundaries` of the whole. */
export class Chunker {
  private readonly masks: Masks;
  private pending = new Uint8Array(0);

  constructor(private readonly params: ChunkingParams = DEFAULT_CHUNKING) {
    this.masks = validateChunking(params);
  }

  push(piece: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.pending.length + piece.length);
    joined.set(this.pending);
    joined.set(piece, this.pending.length);
    const out: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      const len = nextCut(joined, start, joined.length, this.params, this.masks, false);
      if (len < 0 || start >= joined.length) break;
      out.push(joined.subarray(start, start + len));
      start += len;
    }
    this.pending = joined.slice(start);
    return out;
  }

  finish(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    const data = this.pending;
    while (start < data.length) {
      const len = nextCut(data, start, data.length, this.params, this.masks, true);
      out.push(data.subarray(start, start + len));
      start += len;
    }
    this.pending = new Uint8Array(0);
    return out;
  }
}
