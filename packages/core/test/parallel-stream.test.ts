import { afterAll, describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FramePool, decrypt, decryptStream, encrypt, encryptStream } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

// Frames on worker threads (dist/parallel/frame-worker.js: `npm test` builds first). Small frames
// and batches of four so that every case crosses several batches.
const keyring = new TestKeyring();
const pool = new FramePool({ workers: 2 });
afterAll(() => pool.close());
const parallel = { pool, batchBytes: 4 * 64, maxInFlight: 3 };

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 17) & 0xff;
  return b;
}

function chunked(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.byteLength; i += size) out.push(b.subarray(i, i + size));
  return out;
}

async function collect(src: Uint8Array[], t: NodeJS.ReadWriteStream, released: Buffer[] = []): Promise<Buffer> {
  await pipeline(
    Readable.from(src),
    t,
    new Writable({
      write(c, _e, cb) {
        released.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(released);
}

describe('parallel streams (frames on a worker pool)', () => {
  for (const suite of [0x0478, 0x0578, 0x0178]) {
    // Sizes around the frame (64) and batch (256) boundaries, the empty message, odd chunks.
    for (const [size, chunk] of [
      [0, 1],
      [1, 1],
      [64, 64],
      [256, 256],
      [257, 7],
      [1024, 1000],
      [1023, 33],
      [10_000, 4096],
    ] as const) {
      it(`suite ${suite.toString(16)}: ${size} bytes in ${chunk}-byte chunks, both ways against the serial codec`, async () => {
        const pt = pattern(size);
        // 0x0178 (no key commitment) needs a policy that allows it.
        const o = { keyring, ...(suite === 0x0178 ? { commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' as const } : {}) };
        const ct = await collect(chunked(pt, chunk), encryptStream({ ...o, suite, frameLength: 64, parallel }));
        // What the workers sealed, the buffer API and the serial stream read...
        expect(Buffer.from((await decrypt(ct, o)).plaintext).equals(pt)).toBe(true);
        expect((await collect(chunked(ct, 97), decryptStream(o))).equals(pt)).toBe(true);
        // ...and the workers open what the serial stream wrote, in any chunking.
        const serial = await collect(chunked(pt, chunk), encryptStream({ ...o, suite, frameLength: 64 }));
        expect((await collect(chunked(serial, 1), decryptStream({ ...o, parallel }))).equals(pt)).toBe(true);
        expect((await collect([serial], decryptStream({ ...o, parallel }))).equals(pt)).toBe(true);
      });
    }
  }

  it('writes the same frames as the serial codec (the buffer API frames the same plaintext the same way)', async () => {
    const pt = pattern(5000);
    const ct = await collect(chunked(pt, 300), encryptStream({ keyring, suite: 0x0478, frameLength: 64, parallel }));
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478, frameLength: 64 });
    // Same length: the same number of regular frames and the same final frame.
    expect(ct.byteLength).toBe(ciphertext.byteLength);
  });

  it('stops at a tampered frame: plaintext only from whole batches before it', async () => {
    const pt = pattern(64 * 40);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478, frameLength: 64 });
    const headerLen = ciphertext.byteLength - (40 * (64 + 32) + 36);
    const bad = Buffer.from(ciphertext);
    bad[headerLen + 21 * 96 + 40]! ^= 1; // frame 22, in the sixth batch of four
    const released: Buffer[] = [];
    await expect(collect(chunked(bad, 500), decryptStream({ keyring, parallel }), released)).rejects.toMatchObject({
      code: 'ENVELOPE_AUTHENTICATION_FAILED',
    });
    const got = Buffer.concat(released);
    expect(got.byteLength).toBeLessThanOrEqual(20 * 64);
    expect(got.equals(pt.subarray(0, got.byteLength))).toBe(true);
  });

  it('releases nothing of a signed message whose signature is bad', async () => {
    const pt = pattern(64 * 30);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0578, frameLength: 64 });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 5]! ^= 1;
    const released: Buffer[] = [];
    await expect(collect(chunked(bad, 100), decryptStream({ keyring, parallel }), released)).rejects.toMatchObject({
      code: 'ENVELOPE_AUTHENTICATION_FAILED',
    });
    expect(released.length).toBe(0);
  });

  it('with releaseUnverifiedPlaintext, never releases the batch with the final frame before the signature', async () => {
    const pt = pattern(64 * 30 + 10);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0578, frameLength: 64 });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 5]! ^= 1;
    const released: Buffer[] = [];
    await expect(
      collect(chunked(bad, 100), decryptStream({ keyring, parallel, releaseUnverifiedPlaintext: true }), released),
    ).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    // Whole batches of four frames, in order, as they came back before the end; the eighth batch,
    // with the final frame, never (the last of the others may still be out when the footer fails).
    const got = Buffer.concat(released);
    expect(got.byteLength % (4 * 64)).toBe(0);
    expect(got.byteLength).toBeLessThanOrEqual(28 * 64);
    expect(got.byteLength).toBeGreaterThan(0);
    expect(got.equals(pt.subarray(0, got.byteLength))).toBe(true);
  });

  it('refuses a truncated body and trailing bytes', async () => {
    const { ciphertext } = await encrypt(pattern(1000), { keyring, suite: 0x0478, frameLength: 64 });
    await expect(collect([ciphertext.subarray(0, ciphertext.byteLength - 10)], decryptStream({ keyring, parallel }))).rejects.toMatchObject(
      {
        code: 'ENVELOPE_MALFORMED_MESSAGE',
      },
    );
    await expect(collect([Buffer.concat([ciphertext, Buffer.from([1])])], decryptStream({ keyring, parallel }))).rejects.toMatchObject({
      code: 'ENVELOPE_MALFORMED_MESSAGE',
    });
  });

  it('honours plaintextLengthBound', async () => {
    await expect(
      collect(chunked(pattern(1000), 100), encryptStream({ keyring, suite: 0x0478, frameLength: 64, plaintextLengthBound: 999, parallel })),
    ).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
  });

  it('an abort mid-stream fails it with ENVELOPE_ABORTED and ends the message on the workers', async () => {
    const live = pool.liveSessions;
    const ac = new AbortController();
    const chunks = chunked(pattern(64 * 100), 256);
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (const [i, c] of chunks.entries()) {
        if (i === 10) ac.abort();
        yield c;
      }
    }
    const t = encryptStream({ keyring, suite: 0x0478, frameLength: 64, parallel, signal: ac.signal });
    await expect(pipeline(Readable.from(slow()), t, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toMatchObject({
      code: 'ENVELOPE_ABORTED',
    });
    expect(pool.liveSessions).toBe(live);
  });

  it('a decrypt stream destroyed with batches out ends the message on the workers', async () => {
    const live = pool.liveSessions;
    const { ciphertext } = await encrypt(pattern(64 * 100), { keyring, suite: 0x0478, frameLength: 64 });
    const t = decryptStream({ keyring, parallel });
    const first = new Promise((resolve) => t.once('data', resolve));
    t.on('error', () => {});
    t.write(ciphertext);
    await first;
    expect(pool.liveSessions).toBe(live + 1);
    t.destroy(new Error('gone'));
    expect(pool.liveSessions).toBe(live);
  });
});
