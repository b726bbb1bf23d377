import { fromUtf8, utf8Into } from '../util/bytes';

/** Why a frame could not be decoded. Each code names one kind of malformed input. */
export type DecodeErrorCode =
  | 'truncated'
  | 'trailingBytes'
  | 'varintTooLong'
  | 'numberTooLarge'
  | 'badUtf8'
  | 'unknownVersion'
  | 'unknownType'
  | 'badValue'
  | 'frameTooLarge'
  | 'lengthMismatch';

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'DecodeError';
  }
}

/** Bytes of a varint, as ByteWriter.varint writes it. */
export function varintBytes(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/** Growable buffer for deterministic encodings: unsigned LEB128 varints, length-prefixed bytes. */
function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buf[this.len++] = value & 0xff;
    return this;
  }

  /** Unsigned varint for integers in [0, 2^53). */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
    this.reserve(8);
    while (value >= 0x80) {
      this.buf[this.len++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.len++] = value;
    return this;
  }

  /** Signed integers (mtimes before 1970 exist) as zig-zag varints. */
  zigzag(value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`zigzag out of range: ${value}`);
    return this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  bytes(bytes: Uint8Array): this {
    return this.varint(bytes.length).raw(bytes);
  }

  string(text: string): this {
    // Straight into the buffer, after room for the longest prefix: no array per string.
    const prefix = varintLength(text.length * 3);
    // varint() reserves 8 bytes itself; reserving them here keeps it from moving the buffer.
    this.reserve(8 + text.length * 3);
    const written = utf8Into(text, this.buf.subarray(this.len + prefix));
    const start = this.len + prefix;
    this.varint(written);
    if (this.len !== start) this.buf.copyWithin(this.len, start, start + written);
    this.len += written;
    return this;
  }

  u32be(value: number): this {
    this.reserve(4);
    this.buf[this.len++] = (value >>> 24) & 0xff;
    this.buf[this.len++] = (value >>> 16) & 0xff;
    this.buf[this.len++] = (value >>> 8) & 0xff;
    this.buf[this.len++] = value & 0xff;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** The bytes so far without a copy: valid only until the next write or reset. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Starts over, keeping the buffer: for hot loops that encode one small thing at a time. */
  reset(): this {
    this.len = 0;
    return this;
  }
}

export class ByteReader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.at;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.at;
  }

  u8(): number {
    if (this.at >= this.buf.length) throw new DecodeError('truncated', 'expected a byte');
    return this.buf[this.at++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw new DecodeError('numberTooLarge', `varint ${value}`);
        if (i > 0 && b === 0) throw new DecodeError('badValue', 'varint not in shortest form');
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError('varintTooLong', 'varint longer than 8 bytes');
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  raw(n: number): Uint8Array {
    if (n > this.remaining) throw new DecodeError('truncated', `expected ${n} bytes, have ${this.remaining}`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  bytes(maxLength: number): Uint8Array {
    const n = this.varint();
    if (n > maxLength) throw new DecodeError('badValue', `length ${n} over limit ${maxLength}`);
    return this.raw(n);
  }

  string(maxLength: number): string {
    const b = this.bytes(maxLength);
    try {
      return fromUtf8(b);
    } catch {
      throw new DecodeError('badUtf8', 'string is not valid UTF-8');
    }
  }

  u32be(): number {
    const b = this.raw(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  end(): void {
    if (this.remaining !== 0) throw new DecodeError('trailingBytes', `${this.remaining} bytes after the message`);
  }
}
