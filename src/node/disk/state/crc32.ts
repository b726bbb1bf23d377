import * as zlib from 'node:zlib';

/** zlib.crc32 exists from Node 20.15; the pinned @types/node predates it, so it is looked up at run time. */
const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as zlib and gzip compute it. */
export function crc32(data: Uint8Array): number {
  if (native) return native(data) >>> 0;
  let c = 0xffffffff;
  for (const byte of data) c = TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
