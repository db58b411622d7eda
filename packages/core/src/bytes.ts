/** Small byte helpers shared by the format code. Internal. */
import { malformed } from './errors.js';

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8 from untrusted input; invalid sequences are a malformed message. */
export function fromUtf8(b: Uint8Array, what: string): string {
  try {
    return fatalDecoder.decode(b);
  } catch {
    throw malformed(`${what} is not valid UTF-8`);
  }
}

/**
 * A plain Uint8Array view of `b` (no copy). On a Buffer, `slice` is a view and `subarray`
 * returns a Buffer; on the plain view both behave as typed arrays do (slice copies).
 */
export function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Overwrites every byte with zero. */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

/**
 * A bounds-checked big-endian reader over untrusted bytes. Every length it reads is checked
 * against what remains before anything is sliced or allocated; running out is a malformed message.
 * The incremental header parser swaps `bytes` for a longer view as input arrives.
 */
export class Reader {
  offset: number;
  bytes: Uint8Array;
  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = plain(bytes);
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) throw malformed(`truncated ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const b = this.bytes;
    const v = (b[this.offset]! << 8) | b[this.offset + 1]!;
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const o = this.offset;
    const v = ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
    this.offset += 4;
    return v;
  }

  /** A uint64 as a JS number; values above 2^53-1 are malformed (no format field may be that big). */
  u64(what: string): number {
    const hi = this.u32(what);
    const lo = this.u32(what);
    if (hi >= 0x200000) throw malformed(`${what} out of range`);
    return hi * 0x100000000 + lo;
  }

  /** A view (no copy) of the next n bytes. */
  bytesView(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A copy of the next n bytes (for values that outlive the input buffer). */
  bytesCopy(n: number, what: string): Uint8Array {
    return this.bytesView(n, what).slice();
  }
}

/** A growable big-endian writer for headers (small, so simplicity beats preallocation). */
export class Writer {
  private buf: Uint8Array;
  length = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }
  private ensure(n: number): void {
    if (this.length + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    writeU32(this.buf, this.length, v);
    this.length += 4;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.byteLength);
    this.buf.set(b, this.length);
    this.length += b.byteLength;
    return this;
  }
  /** Length-prefixed (u16) bytes. */
  lp16(b: Uint8Array, what: string): this {
    if (b.byteLength > 0xffff) throw new RangeError(`${what} longer than 65535 bytes`);
    return this.u16(b.byteLength).bytes(b);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export function writeU64(b: Uint8Array, o: number, v: number): void {
  writeU32(b, o, Math.floor(v / 0x100000000));
  writeU32(b, o + 4, v >>> 0);
}
