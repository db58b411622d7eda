import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decrypt, decryptStream, decryptWebStream, encrypt, encryptStream, encryptWebStream } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring();

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

async function collect(src: Uint8Array[], t: NodeJS.ReadWriteStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(src),
    t,
    new Writable({
      write(c, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('node streams', () => {
  for (const suite of [0x0478, 0x0578]) {
    for (const [size, chunk, frameLength] of [
      [0, 1, 4096],
      [1, 1, 4096],
      [4096, 1000, 4096],
      [4097, 7, 512],
      [100_000, 65536, 4096],
      [100_000, 333, 1024],
    ] as const) {
      it(`suite ${suite.toString(16)}: ${size} bytes in ${chunk}-byte chunks, frame ${frameLength}`, async () => {
        const pt = pattern(size);
        const ct = await collect(chunked(pt, chunk), encryptStream({ keyring, suite, frameLength }));
        // The buffer API reads what the stream wrote, and the stream reads it back in odd chunks.
        expect(Buffer.from((await decrypt(ct, { keyring })).plaintext).equals(pt)).toBe(true);
        const back = await collect(chunked(ct, 97), decryptStream({ keyring }));
        expect(back.equals(pt)).toBe(true);
      });
    }
  }

  it('decrypts a buffer-API message read one byte at a time', async () => {
    const pt = pattern(5000);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0578, frameLength: 1000 });
    const back = await collect(chunked(ciphertext, 1), decryptStream({ keyring }));
    expect(back.equals(pt)).toBe(true);
  });

  it('releases no plaintext of a signed message whose signature is bad, by default', async () => {
    const pt = pattern(50_000);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0578, frameLength: 1024 });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 5]! ^= 1;
    const released: Buffer[] = [];
    await expect(
      pipeline(
        Readable.from(chunked(bad, 4096)),
        decryptStream({ keyring }),
        new Writable({
          write(c, _e, cb) {
            released.push(c);
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    expect(released.length).toBe(0);
  });

  it('with releaseUnverifiedPlaintext, releases authenticated frames but never the final frame before the signature', async () => {
    const pt = pattern(50_000);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0578, frameLength: 1024 });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 5]! ^= 1;
    const released: Buffer[] = [];
    await expect(
      pipeline(
        Readable.from(chunked(bad, 4096)),
        decryptStream({ keyring, releaseUnverifiedPlaintext: true }),
        new Writable({
          write(c, _e, cb) {
            released.push(c);
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    const got = Buffer.concat(released);
    expect(got.length).toBe(48 * 1024);
    expect(got.equals(pt.subarray(0, got.length))).toBe(true);
  });

  it('stops at the first bad frame of an unsigned message and releases only earlier frames', async () => {
    const pt = pattern(10_000);
    const { ciphertext, messageInfo } = await encrypt(pt, { keyring, suite: 0x0478, frameLength: 1000 });
    const bad = Buffer.from(ciphertext);
    const headerLen = ciphertext.byteLength - (10 * (1000 + 32) + 36);
    // Third frame's content (frames are 4 + 12 + 1000 + 16 bytes).
    bad[headerLen + 2 * 1032 + 100]! ^= 0x80;
    expect(messageInfo.frameLength).toBe(1000);
    const released: Buffer[] = [];
    await expect(
      pipeline(
        Readable.from([bad]),
        decryptStream({ keyring }),
        new Writable({
          write(c, _e, cb) {
            released.push(c);
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    expect(Buffer.concat(released).equals(pt.subarray(0, Buffer.concat(released).length))).toBe(true);
    expect(Buffer.concat(released).length).toBeLessThanOrEqual(2000);
  });

  it('a stalled input is ended by the AbortSignal', async () => {
    const { ciphertext } = await encrypt(pattern(10_000), { keyring, suite: 0x0478 });
    const ac = new AbortController();
    // The source gives 200 bytes, then stalls. When the pipeline asks it for more (the decryptor
    // has taken those bytes and waits), the caller gives up: no timer, no wall-clock bound.
    let reads = 0;
    const stalled = new Readable({
      read() {
        if (++reads === 1) this.push(ciphertext.subarray(0, 200));
        else ac.abort(new Error('deadline'));
      },
    });
    await expect(
      pipeline(
        stalled,
        decryptStream({ keyring, signal: ac.signal }),
        new Writable({
          write(_c, _e, cb) {
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({
      code: 'ENVELOPE_ABORTED',
    });
    expect(reads).toBeGreaterThanOrEqual(2);
  });

  it('refuses a truncated stream with a coded error', async () => {
    const { ciphertext } = await encrypt(pattern(10_000), { keyring, suite: 0x0478 });
    await expect(collect([ciphertext.subarray(0, ciphertext.length - 1)], decryptStream({ keyring }))).rejects.toMatchObject({
      code: 'ENVELOPE_MALFORMED_MESSAGE',
    });
  });
});

describe('web streams', () => {
  it('round trips through TransformStreams', async () => {
    const pt = pattern(70_000);
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        for (const part of chunked(pt, 5000)) c.enqueue(part);
        c.close();
      },
    });
    const encrypted = source.pipeThrough(encryptWebStream({ keyring, suite: 0x0578 }));
    const decrypted = encrypted.pipeThrough(decryptWebStream({ keyring }));
    const parts: Uint8Array[] = [];
    for await (const p of decrypted as unknown as AsyncIterable<Uint8Array>) parts.push(p);
    expect(Buffer.concat(parts).equals(pt)).toBe(true);
  });

  it('a stalled input is ended by the AbortSignal (decrypt and encrypt), as with Node streams', async () => {
    const { ciphertext } = await encrypt(pattern(10_000), { keyring, suite: 0x0478, frameLength: 1024 });
    for (const [make, first] of [
      [(signal: AbortSignal) => decryptWebStream({ keyring, signal }), ciphertext.subarray(0, 1500)],
      [(signal: AbortSignal) => encryptWebStream({ keyring, signal }), pattern(1500)],
    ] as const) {
      const ac = new AbortController();
      const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(first) }); // then nothing, ever
      const reader = stalled.pipeThrough(make(ac.signal)).getReader();
      await reader.read(); // the stream is running: a header (encrypt) or the first plaintext (decrypt)
      // Nothing more will come from the source: the caller gives up now, and the pending read ends.
      const pending = (async () => {
        for (;;) if ((await reader.read()).done) return 'ended without an error';
      })().catch((e: unknown) => e);
      ac.abort(new Error('deadline'));
      expect(await pending).toMatchObject({ code: 'ENVELOPE_ABORTED' });
    }
    // Already aborted: refused at once.
    const ac = new AbortController();
    ac.abort();
    const reader = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(ciphertext) })
      .pipeThrough(decryptWebStream({ keyring, signal: ac.signal }))
      .getReader();
    await expect(reader.read()).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
  });
});
