// Draws media/icon.png, the extension's 128x128 marketplace icon: two overlapping folders on a
// rounded blue-teal square. Only Node's zlib: shapes are sampled 4x4 per pixel for smooth edges,
// then written as an 8-bit RGBA PNG. Run `node tools/make-icon.js` after changing the drawing.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const SIZE = 128;
const SAMPLES = 4;

/** Inside a rectangle with rounded corners of radius r. */
function inRoundRect(x, y, left, top, right, bottom, r) {
  if (x < left || x > right || y < top || y > bottom) return false;
  const cx = Math.min(Math.max(x, left + r), right - r);
  const cy = Math.min(Math.max(y, top + r), bottom - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** A folder: a tab on the upper left and a body below it, origin at its top left corner. */
function inFolder(x, y, ox, oy, w, h) {
  const tab = inRoundRect(x, y, ox, oy, ox + w * 0.42, oy + h * 0.3, 4);
  const body = inRoundRect(x, y, ox, oy + h * 0.14, ox + w, oy + h, 6);
  return tab || body;
}

/** The colour of one sample point, as [r, g, b, a] in 0..1, painted back to front. */
function paint(x, y) {
  if (!inRoundRect(x, y, 4, 4, SIZE - 4, SIZE - 4, 26)) return [0, 0, 0, 0];
  const t = y / SIZE; // vertical gradient, from teal at the top to blue at the bottom
  let c = [0.05 + 0.05 * t, 0.62 - 0.22 * t, 0.74 - 0.02 * t, 1];
  const over = (rgb, alpha) => {
    c = [c[0] * (1 - alpha) + rgb[0] * alpha, c[1] * (1 - alpha) + rgb[1] * alpha, c[2] * (1 - alpha) + rgb[2] * alpha, 1];
  };
  if (inFolder(x, y, 22, 26, 62, 50)) over([1, 1, 1], 0.55); // the folder behind
  // the front folder, with a thin outline in the background colour to separate it from the back one
  if (inFolder(x, y, 40, 46, 66, 54)) over([0.05 + 0.05 * t, 0.62 - 0.22 * t, 0.74 - 0.02 * t], 1);
  if (inFolder(x, y, 43, 49, 60, 48)) over([1, 1, 1], 1);
  return c;
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const raw = Buffer.alloc((SIZE * 4 + 1) * SIZE);
for (let y = 0; y < SIZE; y++) {
  raw[y * (SIZE * 4 + 1)] = 0; // filter: none
  for (let x = 0; x < SIZE; x++) {
    const sum = [0, 0, 0, 0];
    for (let sy = 0; sy < SAMPLES; sy++) {
      for (let sx = 0; sx < SAMPLES; sx++) {
        const [r, g, b, a] = paint(x + (sx + 0.5) / SAMPLES, y + (sy + 0.5) / SAMPLES);
        sum[0] += r * a;
        sum[1] += g * a;
        sum[2] += b * a;
        sum[3] += a;
      }
    }
    const n = SAMPLES * SAMPLES;
    const alpha = sum[3] / n;
    const at = y * (SIZE * 4 + 1) + 1 + x * 4;
    for (let i = 0; i < 3; i++) raw[at + i] = alpha ? Math.round((sum[i] / sum[3]) * 255) : 0;
    raw[at + 3] = Math.round(alpha * 255);
  }
}

const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // colour type: RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = path.join(__dirname, '..', 'media', 'icon.png');
fs.writeFileSync(out, png);
console.log(`wrote ${path.relative(process.cwd(), out)} (${png.length} bytes)`);
