/**
 * Callers that read a file into one buffer over and over (the CLI's file path, issue 16): the
 * stream decryptor keeps no reference to a chunk once update() settles, the encryptor none
 * after update(), and updateInto() writes exactly what update() returns. Chunk sizes come from a
 * fixed-seed generator, so frames start and end anywhere in a read.
 */
import { describe, expect, it } from 'vitest';
import { StreamDecryptor, StreamEncryptor, decrypt, encrypt } from '../src/index.js';
import { ByteQueue } from '../src/message/byte-queue.js';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring('reuse', Buffer.alloc(32, 7));

/** A small fixed-seed generator (xorshift32): the same sizes on every run. */
function sizes(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  return b;
}

/** Decrypts `msg` through one reused read buffer, scribbling over it after every update. */
async function decryptReusing(msg: Uint8Array, maxRead: number, seed: number): Promise<Buffer> {
  const d = new StreamDecryptor({ keyring, releaseUnverifiedPlaintext: true });
  const next = sizes(seed);
  const buf = Buffer.alloc(maxRead);
  const out: Buffer[] = [];
  for (let p = 0; p < msg.byteLength;) {
    const n = Math.min(1 + (next() % maxRead), msg.byteLength - p);
    buf.set(msg.subarray(p, p + n));
    p += n;
    for (const part of await d.update(buf.subarray(0, n))) out.push(Buffer.from(part));
    buf.fill(0xa5); // what the next read would do to a chunk the decryptor still referred to
  }
  for (const part of await d.finish()) out.push(Buffer.from(part));
  return Buffer.concat(out);
}

describe('reused read buffers', () => {
  for (const [suite, frameLength] of [
    [0x0478, 4096],
    [0x0478, 1000],
    [0x0578, 4096],
    [0x0578, 512],
  ] as const) {
    it(`decrypt through one reused buffer: suite ${suite.toString(16)}, frame ${frameLength}`, async () => {
      const pt = pattern(50_000 + frameLength); // a partial final frame
      const msg = (await encrypt(pt, { keyring, suite, frameLength })).ciphertext;
      for (const [maxRead, seed] of [
        [7, 1],
        [frameLength + 37, 2],
        [3 * frameLength, 3],
        [65536, 4],
      ] as const) {
        expect((await decryptReusing(msg, maxRead, seed)).equals(pt)).toBe(true);
      }
    });
  }

  it('encrypt through one reused buffer, with update and updateInto, decrypts to the input', async () => {
    const pt = pattern(100_003);
    for (const into of [false, true]) {
      const e = new StreamEncryptor({ keyring, suite: 0x0478, frameLength: 4096 });
      const parts: Buffer[] = [Buffer.from(await e.start())];
      const next = sizes(9);
      const buf = Buffer.alloc(10_000);
      for (let p = 0; p < pt.byteLength;) {
        const n = Math.min(1 + (next() % buf.byteLength), pt.byteLength - p);
        buf.set(pt.subarray(p, p + n));
        p += n;
        const chunk = buf.subarray(0, n);
        if (into) {
          const out = Buffer.alloc(e.outputLength(n) + 10);
          const end = e.updateInto(chunk, out, 10);
          expect(end).toBe(out.byteLength);
          parts.push(out.subarray(10));
        } else parts.push(Buffer.from(e.update(chunk)));
        buf.fill(0x5a);
      }
      parts.push(Buffer.from(e.finish()));
      expect(Buffer.from((await decrypt(Buffer.concat(parts), { keyring })).plaintext).equals(pt)).toBe(true);
    }
  });

  it('updateInto refuses an output without room for the frames, and takes nothing then', async () => {
    const e = new StreamEncryptor({ keyring, suite: 0x0478, frameLength: 1024 });
    await e.start();
    expect(e.outputLength(3000)).toBe(2 * (1024 + 32));
    expect(() => e.updateInto(Buffer.alloc(3000), Buffer.alloc(2 * (1024 + 32) - 1), 0)).toThrow(/no room/);
    expect(e.outputLength(3000)).toBe(2 * (1024 + 32)); // nothing was taken
    e.dispose();
  });
});

describe('ByteQueue', () => {
  it('hands out the same bytes whatever the chunking, and none of the caller chunks after detach', () => {
    const data = pattern(30_000);
    const next = sizes(11);
    const q = new ByteQueue();
    const got: number[] = [];
    let p = 0;
    const scratch = Buffer.alloc(2000);
    while (p < data.byteLength || q.length > 0) {
      if (p < data.byteLength) {
        const n = Math.min(1 + (next() % scratch.byteLength), data.byteLength - p);
        scratch.set(data.subarray(p, p + n));
        q.push(scratch.subarray(0, n));
        p += n;
      }
      // Take views of various sizes, as frames and probes would.
      const want = 1 + (next() % 3000);
      if (q.length >= want || p >= data.byteLength) {
        if (next() % 2) q.reserve(want);
        const v = q.peek(want);
        for (const b of v) got.push(b);
        q.consume(v.byteLength);
      }
      q.detach();
      scratch.fill(0xee);
    }
    expect(Buffer.from(got).equals(data)).toBe(true);
  });
});
