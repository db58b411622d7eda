// Shared setup for the benchmarks: the same key and inputs for ours and the SDK, the raw
// node:crypto floor, stream helpers and statistics.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as oursImpl from './ours.mjs';
import * as sdkImpl from './sdk.mjs';
import { KEY, CONTEXT, MiB, KiB } from './constants.mjs';

export { KEY, CONTEXT, MiB, KiB };
export const ours = oursImpl.keyring;
export const sdkKeyring = sdkImpl.keyring;
export const sdk = sdkImpl.client;

export const hex = (suite) => `0x${suite.toString(16).padStart(4, '0')}`;

/** Buffer API, one object per implementation with the same signature. */
export const impls = { ours: oursImpl.buffer, sdk: sdkImpl.buffer };

/** Streaming: a fresh Transform/Duplex per message (see ours.mjs and sdk.mjs for the signed-suite choice). */
export const streamImpls = { ours: oursImpl.stream, sdk: sdkImpl.stream };

/** A readable over `buf` in `chunk`-byte views (what a file stream would hand over). */
export function chunked(buf, chunk = 64 * KiB) {
  let o = 0;
  return new Readable({
    highWaterMark: chunk,
    read() {
      if (o >= buf.length) this.push(null);
      else {
        this.push(buf.subarray(o, o + chunk));
        o += chunk;
      }
    },
  });
}

/** A readable over a list of chunks, as produced by an encrypt stream. */
export function fromChunks(chunks) {
  let i = 0;
  return new Readable({
    read() {
      this.push(i < chunks.length ? chunks[i++] : null);
    },
  });
}

/** @typedef {Writable & { bytes: number, chunks: Buffer[] }} CountingSink */

/**
 * A sink that counts bytes, and keeps them when `keep` is set.
 * @returns {CountingSink}
 */
export function sink(keep = false) {
  const w = /** @type {CountingSink} */ (
    new Writable({
      highWaterMark: 64 * KiB,
      write(c, _e, cb) {
        w.bytes += c.length;
        if (keep) w.chunks.push(c);
        cb();
      },
    })
  );
  w.bytes = 0;
  w.chunks = [];
  return w;
}

export async function pipe(src, transform, keep) {
  const out = sink(keep);
  await pipeline(src, transform, out);
  return out;
}

/**
 * The raw floor: AES-256-GCM with a new cipher per frame over the same frame size, a small AAD,
 * into a preallocated output; no format around it.
 */
const RAW_KEY = randomBytes(32);
const RAW_AAD = Buffer.alloc(64, 1);
export function rawEncrypt(pt, frameLength) {
  const iv = Buffer.alloc(12);
  const frames = Math.max(1, Math.ceil(pt.length / frameLength));
  const out = Buffer.allocUnsafe(pt.length + frames * 16);
  let o = 0;
  for (let i = 0, p = 0; i < frames; i++, p += frameLength) {
    iv.writeUInt32BE(i + 1, 8);
    const c = createCipheriv('aes-256-gcm', RAW_KEY, iv);
    c.setAAD(RAW_AAD);
    const x = c.update(pt.subarray(p, p + frameLength));
    out.set(x, o);
    o += x.length;
    c.final();
    out.set(c.getAuthTag(), o);
    o += 16;
  }
  return out;
}

/** The raw floor for decryption: the inverse of {@link rawEncrypt} (tag checked per frame). */
export function rawDecrypt(ct, frameLength) {
  const iv = Buffer.alloc(12);
  const n = frameLength + 16;
  const frames = Math.max(1, Math.ceil(ct.length / n));
  const out = Buffer.allocUnsafe(ct.length - frames * 16);
  let o = 0;
  for (let i = 0, p = 0; i < frames; i++, p += n) {
    iv.writeUInt32BE(i + 1, 8);
    const end = Math.min(p + n, ct.length);
    const d = createDecipheriv('aes-256-gcm', RAW_KEY, iv);
    d.setAAD(RAW_AAD);
    d.setAuthTag(ct.subarray(end - 16, end));
    const x = d.update(ct.subarray(p, end - 16));
    d.final();
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** The raw floor through streams: the same per-frame work inside a Transform, frames re-chunked. */
export function rawStream(frameLength, direction) {
  /** @type {Buffer | undefined} */
  let pending;
  return new Transform({
    transform(chunk, _e, cb) {
      /** @type {Buffer} */
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      const unit = direction === 'enc' ? frameLength : frameLength + 16;
      const whole = Math.floor(buf.length / unit) * unit;
      if (whole > 0) {
        const frames = buf.subarray(0, whole);
        this.push(direction === 'enc' ? rawEncrypt(frames, frameLength) : rawDecrypt(frames, frameLength));
      }
      pending = buf.subarray(whole);
      cb();
    },
    flush(cb) {
      if (pending?.length) this.push(direction === 'enc' ? rawEncrypt(pending, frameLength) : rawDecrypt(pending, frameLength));
      cb();
    },
  });
}

export function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn` once; returns [wall ms, process CPU ms (user + system)] and its value. */
export async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, value };
}

export const mibps = (bytes, ms) => bytes / MiB / (ms / 1000);

/** Same bytes? (views of any kind) */
export function same(a, b) {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

export { randomBytes };

/**
 * For a response field the bench relies on: `x ?? missing('key ARN')` fails with a message naming
 * it instead of reading a property of undefined.
 * @param {string} what
 * @returns {never}
 */
export function missing(what) {
  throw new Error(`bench: the response has no ${what}`);
}

/** @param {unknown} e */
export const messageOf = (e) => (e instanceof Error ? e.message : String(e));
