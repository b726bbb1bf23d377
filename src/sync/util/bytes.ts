/**
 * src/sync/util/: small helpers that know nothing of files or sync: bytes, UTF-8 and hex
 * (bytes.ts), a rate limit (token-bucket.ts), an async step queue (serial-queue.ts).
 * Imports nothing. Every layer may import it, the server included.
 */
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Encodes into `destination`, which must hold 3 bytes per UTF-16 unit; returns the bytes written. */
export function utf8Into(text: string, destination: Uint8Array): number {
  return encoder.encodeInto(text, destination).written;
}

/** Decodes UTF-8, throwing on malformed input rather than inventing replacement characters; a leading U+FEFF is kept. */
export function fromUtf8(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

const HEX_DIGITS = utf8('0123456789abcdef');

/** Lowercase hex, as one flat string: appending pairs would leave a chain of string pieces per key. */
export function toHex(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out[2 * i] = HEX_DIGITS[b >> 4]!;
    out[2 * i + 1] = HEX_DIGITS[b & 15]!;
  }
  return strictDecoder.decode(out);
}

const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * A copy of a small byte string (a hash) that owns no ArrayBuffer of its own: copies share
 * 64 KiB slabs, because an index of a million records would otherwise carry millions of buffers.
 * The copy's `buffer` is the shared slab, so it must never be transferred to another thread.
 */
export function compactCopy(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return EMPTY_BYTES;
  if (bytes.length > 256) return bytes.slice();
  if (slabUsed + bytes.length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + bytes.length);
  out.set(bytes);
  slabUsed += bytes.length;
  return out;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

const interned = new Map<string, string>();

/**
 * One shared copy of a short, often repeated string (a replica id, a user name): decoding makes a
 * new string each time, and each record holds several. The table is bounded, then starts over.
 */
export function intern(text: string): string {
  const known = interned.get(text);
  if (known !== undefined) return known;
  if (interned.size >= 4096) interned.clear();
  interned.set(text, text);
  return text;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) throw new Error(`not lowercase hex: ${hex.slice(0, 16)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Compares strings by code unit, independent of locale, so every replica sorts the same way. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
