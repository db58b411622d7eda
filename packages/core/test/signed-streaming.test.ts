/**
 * Signed messages of any size (issue 14, point 1), shown above a lowered limit so the tests stay
 * small (bench/cases/31-signed-large.mjs crosses the 64 MiB default for real):
 * - decrypt with releaseUnverifiedPlaintext streams with bounded memory, the final frame held
 *   until the signature verifies;
 * - rewrap (buffer and stream) re-encrypts frame by frame without holding the plaintext, and the
 *   new message is completed only after the old signature verifies.
 * Memory is read from the decryptor's own account (`buffered`) and from how much output has
 * come out while the input is still going in.
 */
import { describe, expect, it } from 'vitest';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  RequiredEncryptionContextMaterialsManager,
  StreamDecryptor,
  decrypt,
  encrypt,
  parseHeader,
  rewrap,
  rewrapStream,
} from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';
import { chunks } from './helpers/forged-header.js';

const oldKey = new TestKeyring('old', Buffer.alloc(32, 1));
const newKey = new TestKeyring('new', Buffer.alloc(32, 2));
const KiB = 1024;
const MiB = 1024 * KiB;
const FRAME = 16 * KiB;
const LOW = 64 * KiB; // the lowered maxBufferedPlaintext: the message is 16× larger

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >> 11)) & 0xff;
  return b;
}

const pt = pattern(MiB + 5000); // the final frame holds 5000 bytes
const signed = encrypt(pt, { keyring: oldKey, suite: 0x0578, frameLength: FRAME });

describe('signed messages above the buffering limit', () => {
  it('without the opt-in, a signed message over maxBufferedPlaintext is refused (the limit is real)', async () => {
    const { ciphertext } = await signed;
    const d = new StreamDecryptor({ keyring: oldKey, maxBufferedPlaintext: LOW });
    const error = await (async () => {
      for (const c of chunks(ciphertext, 8 * KiB)) await d.update(c);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    d.dispose();
  });

  it('releaseUnverifiedPlaintext: 16× the limit streams with bounded memory; the final frame waits for the signature', async () => {
    const { ciphertext } = await signed;
    const d = new StreamDecryptor({ keyring: oldKey, releaseUnverifiedPlaintext: true, maxBufferedPlaintext: LOW });
    const out: Uint8Array[] = [];
    let released = 0;
    let fed = 0;
    let peak = 0;
    const chunk = 8 * KiB;
    for (const c of chunks(ciphertext, chunk)) {
      for (const p of await d.update(c)) {
        out.push(p);
        released += p.byteLength;
      }
      fed += c.byteLength;
      peak = Math.max(peak, d.buffered);
      // Everything fed, less one frame in progress and the held final frame, has come out.
      expect(released).toBeGreaterThanOrEqual(fed - 2 * (FRAME + 64) - chunk);
    }
    // Held: at most a frame of ciphertext plus a chunk, and the final frame's plaintext.
    expect(peak).toBeLessThanOrEqual(FRAME + 64 + chunk + 5000);
    // Before finish(), everything but the final frame.
    expect(released).toBe(pt.byteLength - 5000);
    for (const p of await d.finish()) out.push(p);
    expect(Buffer.concat(out).equals(pt)).toBe(true);
  });

  it('releaseUnverifiedPlaintext: a bad signature releases nothing of the final frame', async () => {
    const { ciphertext } = await signed;
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 3]! ^= 1;
    const d = new StreamDecryptor({ keyring: oldKey, releaseUnverifiedPlaintext: true });
    let released = 0;
    for (const c of chunks(bad, 8 * KiB)) for (const p of await d.update(c)) released += p.byteLength;
    await expect(d.finish()).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    expect(released).toBe(pt.byteLength - 5000);
  });
});

describe('signed rewrap streams frame by frame', () => {
  /** Runs `message` through rewrapStream in `chunk`-byte pieces; records output as it comes. */
  async function streamRewrap(message: Uint8Array, chunk: number, options: Parameters<typeof rewrapStream>[0]) {
    let fed = 0;
    let lag = 0; // the most input not yet answered by output, after each chunk
    let emitted = 0;
    const parts: Buffer[] = [];
    const counter = new Transform({
      transform(c: Buffer, _e, cb) {
        fed += c.length;
        cb(null, c);
      },
    });
    const t = rewrapStream(options);
    let summary: unknown;
    t.on('rewrap', (s) => (summary = s));
    await pipeline(
      Readable.from(chunks(message, chunk)),
      counter,
      t,
      new Writable({
        write(c: Buffer, _e, cb) {
          emitted += c.length;
          lag = Math.max(lag, fed - emitted);
          parts.push(c);
          cb();
        },
      }),
    );
    return { out: Buffer.concat(parts), lag, summary };
  }

  it('rewrapStream of a signed message 16× the old 64 KiB bound: output keeps pace with input; the result decrypts', async () => {
    const { ciphertext } = await signed;
    const r = await streamRewrap(ciphertext, 8 * KiB, { from: oldKey, to: newKey, maxFrameLength: LOW });
    // Output trails input by about a frame (decrypted, re-encrypted), never by the message.
    expect(r.lag).toBeLessThan(8 * FRAME);
    expect(r.summary).toMatchObject({ method: 're-encrypted', added: 1, removed: 1 });
    expect(parseHeader(r.out, { maxEncryptedDataKeys: 10, maxFrameLength: LOW }).frameLength).toBe(FRAME);
    expect(Buffer.from((await decrypt(r.out, { keyring: newKey })).plaintext).equals(pt)).toBe(true);
  });

  it('a bad old signature: the output stops short of a final frame and signature, and the stream fails', async () => {
    const { ciphertext } = await signed;
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 3]! ^= 1;
    const parts: Buffer[] = [];
    await expect(
      pipeline(
        Readable.from(chunks(bad, 8 * KiB)),
        rewrapStream({ from: oldKey, to: newKey }),
        new Writable({
          write(c: Buffer, _e, cb) {
            parts.push(c);
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    // What came out is an unfinished message: it never decrypts (the caller discards it).
    const partial = Buffer.concat(parts);
    expect(partial.byteLength).toBeGreaterThan(0);
    await expect(decrypt(partial, { keyring: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_MALFORMED_MESSAGE' });
  });

  it('15.2 holds on the streaming path too: required pairs stay out of the new header and required', async () => {
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: oldKey, requiredEncryptionContextKeys: ['tenant'] });
    const { ciphertext } = await encrypt(pt, {
      materialsManager: cmm,
      suite: 0x0578,
      frameLength: FRAME,
      encryptionContext: { tenant: 'tenant-9', app: 'a' },
    });
    const r = await streamRewrap(ciphertext, 8 * KiB, { from: oldKey, to: newKey, encryptionContext: { tenant: 'tenant-9' } });
    expect(r.lag).toBeLessThan(8 * FRAME);
    expect(Object.keys(parseHeader(r.out, { maxEncryptedDataKeys: 10, maxFrameLength: LOW }).encryptionContext).sort()).toEqual([
      'app',
      'aws-crypto-public-key',
    ]);
    await expect(decrypt(r.out, { keyring: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const out = await decrypt(r.out, { keyring: newKey, encryptionContext: { tenant: 'tenant-9' } });
    expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
  });

  it('the buffer rewrap of a signed message gives the same kind of result', async () => {
    const { ciphertext } = await signed;
    const r = await rewrap(ciphertext, { from: oldKey, to: newKey });
    expect(r).toMatchObject({ method: 're-encrypted', added: 1, removed: 1 });
    expect(Buffer.from((await decrypt(r.message, { keyring: newKey })).plaintext).equals(pt)).toBe(true);
  });
});
