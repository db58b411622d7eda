/**
 * Incremental header parsing (issue 15.3): a header streamed in small chunks costs work linear in
 * its length, whichever reader takes it (the stream decryptor, the streaming rewrap, the
 * header-only reader the CLI uses), and the header's length is capped on its own.
 *
 * Work is counted, not timed: every byte copied through Uint8Array.prototype.set and .slice
 * while the header is read (the quadratic path re-merged the buffered queue and re-copied every
 * EDK on each chunk). The CPU-time demonstration is bench/forged-header.mjs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DEFAULT_MAX_HEADER_LENGTH,
  HeaderParser,
  StreamDecryptor,
  decrypt,
  encrypt,
  parseHeader,
  readMessageHeader,
  rewrapStream,
} from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';
import { chunks, forgedHeader } from './helpers/forged-header.js';

const keyring = new TestKeyring();
const MiB = 1024 * 1024;

/** Bytes copied by Uint8Array.prototype.set and .slice while `run` runs. */
async function bytesCopied(run: () => Promise<unknown>): Promise<number> {
  const set = vi.spyOn(Uint8Array.prototype, 'set');
  const slice = vi.spyOn(Uint8Array.prototype, 'slice');
  try {
    await run();
    let n = 0;
    for (const [src] of set.mock.calls) n += (src as ArrayLike<number>).length;
    for (const r of slice.mock.results) if (r.type === 'return') n += (r.value as Uint8Array).byteLength;
    return n;
  } finally {
    set.mockRestore();
    slice.mockRestore();
  }
}

/** Feeds `parts` to a stream decryptor; resolves with the error it ends with. */
async function decryptorOutcome(parts: readonly Uint8Array[], maxHeaderLength?: number): Promise<unknown> {
  const d = new StreamDecryptor({ keyring, maxHeaderLength });
  try {
    for (const p of parts) await d.update(p);
    await d.finish();
    return 'decrypted';
  } catch (e) {
    return e;
  } finally {
    d.dispose();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('15.3: header parsing is linear in the header length', () => {
  // 8 EDKs of 3 × 64 KiB: a 1.5 MiB forged header, over the default cap, so the cap is raised here.
  const header = forgedHeader({ edks: 8 });
  const limit = 2 * MiB;

  it('15.3: the stream decryptor copies each header byte a bounded number of times, however it is chunked', async () => {
    let small: unknown;
    let large: unknown;
    const copiedSmall = await bytesCopied(async () => (small = await decryptorOutcome(chunks(header, 4096), limit)));
    const copiedLarge = await bytesCopied(async () => (large = await decryptorOutcome(chunks(header, 256 * 1024), limit)));
    // The header was read to its end: the forged EDKs belong to nobody.
    expect(small).toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect(large).toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    // Linear: a few copies per byte (buffer growth, the EDKs, the body kept for authentication),
    // and 64× more chunks cost about the same. The quadratic parser copied ~190 MiB here.
    expect(copiedSmall).toBeLessThan(5 * header.byteLength);
    expect(copiedSmall).toBeLessThan(1.5 * copiedLarge);
  });

  it('15.3: the streaming rewrap reads the header the same way', async () => {
    let outcome: unknown;
    const copied = await bytesCopied(async () => {
      outcome = await pipeline(
        Readable.from(chunks(header, 4096)),
        rewrapStream({ from: keyring, to: keyring, maxHeaderLength: limit }),
        new Writable({ write: (_c, _e, cb) => cb() }),
      ).catch((e: unknown) => e);
    });
    expect(outcome).toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect(copied).toBeLessThan(5 * header.byteLength);
  });

  it('15.3: readMessageHeader (the CLI’s header reader) stops at the header, copying linearly', async () => {
    let read: Awaited<ReturnType<typeof readMessageHeader>> | undefined;
    const body = Buffer.alloc(10_000, 9);
    const source = Readable.from(chunks(Buffer.concat([header, body]), 4096));
    const copied = await bytesCopied(async () => {
      read = await readMessageHeader(source, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20, maxHeaderLength: limit });
    });
    expect(read!.header.length).toBe(header.byteLength);
    expect(read!.header.encryptedDataKeys).toHaveLength(8);
    // The chunk that completed the header: what came after the header in it.
    expect(Buffer.from(read!.rest).equals(body.subarray(0, read!.rest.byteLength))).toBe(true);
    expect(source.destroyed).toBe(true); // leaving the loop closed the source
    expect(copied).toBeLessThan(5 * header.byteLength);
  });

  it('15.3: HeaderParser counts its own copies: under 3× the header for 61-byte to 64 KiB chunks', () => {
    for (const size of [61, 4096, 65536]) {
      const p = new HeaderParser({ maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20, maxHeaderLength: limit });
      let h: ReturnType<HeaderParser['push']>;
      for (const c of chunks(header, size)) if ((h = p.push(c))) break;
      expect(h?.length).toBe(header.byteLength);
      expect(p.bytesCopied).toBeLessThan(3 * header.byteLength);
    }
  });
});

describe('15.3: the header length is capped on its own', () => {
  it('15.3: a forged 16 MiB header (85 EDKs, within the EDK limit) is refused once it passes 1 MiB, before buffering more', async () => {
    const forged = forgedHeader(); // 85 × 196,611 bytes
    expect(forged.byteLength).toBeGreaterThan(15.9 * MiB);
    const d = new StreamDecryptor({ keyring });
    let fed = 0;
    let peak = 0;
    const error = await (async () => {
      for (const c of chunks(forged, 4096)) {
        await d.update(c);
        fed += c.byteLength;
        peak = Math.max(peak, d.buffered);
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED', message: expect.stringMatching(/maxHeaderLength 1048576/) });
    expect(fed).toBeLessThanOrEqual(DEFAULT_MAX_HEADER_LENGTH);
    expect(peak).toBeLessThanOrEqual(DEFAULT_MAX_HEADER_LENGTH);
    // The buffer API and parseHeader refuse it the same way.
    await expect(decrypt(forged, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    expect(() => parseHeader(forged, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 })).toThrow(/maxHeaderLength/);
  });

  it('15.3: a declared EDK that would cross the cap is refused before its bytes arrive', async () => {
    const forged = forgedHeader({ edks: 8 });
    const p = new HeaderParser({ maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20, maxHeaderLength: 50_000 });
    // The first EDK's provider-id length (65,535) is at byte 39; with it, the header would pass 50,000.
    expect(() => p.push(forged.subarray(0, 41))).toThrow(/maxHeaderLength 50000/);
    expect(p.buffered).toBeLessThanOrEqual(41);
  });

  it('15.3: real headers are far below the default cap, and the option is validated', async () => {
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: { k: 'v'.repeat(60_000) } });
    await expect(decrypt(ciphertext, { keyring })).resolves.toBeDefined();
    await expect(decrypt(ciphertext, { keyring, maxHeaderLength: 1000 })).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(decrypt(ciphertext, { keyring, maxHeaderLength: bad })).rejects.toMatchObject({ code: 'ENVELOPE_INVALID_ARGUMENT' });
      expect(() => new HeaderParser({ maxEncryptedDataKeys: 1, maxFrameLength: 1, maxHeaderLength: bad })).toThrow(/maxHeaderLength/);
    }
  });
});

describe('HeaderParser', () => {
  it('gives the same header as parseHeader for every chunking, and the bytes after it', async () => {
    for (const suite of [0x0478, 0x0578, 0x0178, 0x0014]) {
      const { ciphertext } = await encrypt(Buffer.alloc(5000, 3), {
        keyring,
        suite,
        encryptionContext: { a: '1', b: '2' },
        commitmentPolicy: suite < 0x0400 ? 'FORBID_ENCRYPT_ALLOW_DECRYPT' : undefined,
      });
      const limits = { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 };
      const whole = parseHeader(ciphertext, limits);
      for (const size of [1, 2, 3, 17, 1000, ciphertext.byteLength]) {
        const p = new HeaderParser(limits);
        const rest: Uint8Array[] = [];
        for (const c of chunks(ciphertext, size)) {
          if (p.header) rest.push(c);
          else if (p.push(c)) rest.push(p.rest);
        }
        expect(p.end()).toEqual(whole);
        expect(Buffer.concat(rest).equals(Buffer.from(ciphertext.subarray(whole.length)))).toBe(true);
      }
    }
  });

  it('a header cut short, or nothing at all, is reported at the end of the input', () => {
    const limits = { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 };
    const p = new HeaderParser(limits);
    p.push(Buffer.from([2, 4, 0x78]));
    expect(() => p.end()).toThrow(/truncated message header/);
    expect(() => new HeaderParser(limits).end()).toThrow(expect.objectContaining({ code: 'ENVELOPE_NOT_A_MESSAGE' }));
  });
});
