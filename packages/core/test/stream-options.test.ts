/**
 * 15.13: the stream decryptor refuses bytes after the final frame beyond what a footer can hold
 * as they arrive (not at finish()), and every numeric option is validated at the edge.
 */
import { describe, expect, it } from 'vitest';
import {
  StreamDecryptor,
  StreamEncryptor,
  decrypt,
  encrypt,
  rewrap,
  type DecryptStreamOptions,
  type EncryptStreamOptions,
} from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';
import { chunks } from './helpers/forged-header.js';

const keyring = new TestKeyring();
const MiB = 1024 * 1024;

/** Feeds `parts`; resolves with how far it got (bytes fed) and the error, if any. */
async function feed(d: StreamDecryptor, parts: readonly Uint8Array[]): Promise<{ fed: number; error: unknown }> {
  let fed = 0;
  try {
    for (const p of parts) {
      await d.update(p);
      fed += p.byteLength;
    }
    await d.finish();
    return { fed, error: undefined };
  } catch (error) {
    return { fed, error };
  } finally {
    d.dispose();
  }
}

describe('15.13: trailing bytes after the final frame', () => {
  for (const suite of [0x0478, 0x0578]) {
    it(`15.13: suite 0x0${suite.toString(16)}: 64 MiB of junk after the message is refused within the first chunk of it`, async () => {
      const { ciphertext } = await encrypt(Buffer.alloc(10_000, 1), { keyring, suite, frameLength: 4096 });
      const junk = Buffer.alloc(64 * 1024, 0x5a);
      // The message, then 1,024 chunks of 64 KiB junk: 64 MiB if it were all taken.
      const parts = [ciphertext, ...new Array<Uint8Array>(1024).fill(junk)];
      const d = new StreamDecryptor({ keyring });
      const { fed, error } = await feed(d, parts);
      expect(error).toMatchObject({ code: 'ENVELOPE_MALFORMED_MESSAGE', message: expect.stringMatching(/trailing bytes/) });
      expect(fed).toBe(ciphertext.byteLength); // refused with the first junk chunk
    });
  }

  it('15.13: a signed message followed by less junk than a footer can hold is refused at finish, byte by byte too', async () => {
    const { ciphertext } = await encrypt(Buffer.alloc(100, 1), { keyring, suite: 0x0578 });
    for (const extra of [1, 100]) {
      const msg = Buffer.concat([ciphertext, Buffer.alloc(extra, 7)]);
      const { error } = await feed(new StreamDecryptor({ keyring }), chunks(msg, 1));
      expect(error).toMatchObject({ code: 'ENVELOPE_MALFORMED_MESSAGE', message: expect.stringMatching(/trailing bytes/) });
    }
    // And the message itself, byte by byte, still decrypts.
    expect((await feed(new StreamDecryptor({ keyring }), chunks(ciphertext, 1))).error).toBeUndefined();
  });
});

describe('15.13: numeric options are validated', () => {
  const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1.5, '10' as unknown as number];

  it('15.13: maxBufferedPlaintext: NaN (and every non-finite, negative or fractional value) is refused', () => {
    for (const v of bad) {
      expect(() => new StreamDecryptor({ keyring, maxBufferedPlaintext: v }), String(v)).toThrow(
        expect.objectContaining({ code: 'ENVELOPE_INVALID_ARGUMENT', message: expect.stringMatching(/^maxBufferedPlaintext:/) }),
      );
    }
    expect(() => new StreamDecryptor({ keyring, maxBufferedPlaintext: 0 })).not.toThrow();
  });

  it('15.13: every other numeric option of decrypt, the streams and rewrap is refused the same way', async () => {
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478 });
    const decryptOptions: (keyof DecryptStreamOptions)[] = ['maxFrameLength', 'maxHeaderLength', 'maxEncryptedDataKeys'];
    for (const name of decryptOptions) {
      for (const v of [...bad, 0]) {
        const o = { keyring, [name]: v } as DecryptStreamOptions;
        expect(() => new StreamDecryptor(o), `${name}: ${String(v)}`).toThrow(
          expect.objectContaining({ code: 'ENVELOPE_INVALID_ARGUMENT' }),
        );
        await expect(decrypt(ciphertext, o)).rejects.toMatchObject({
          code: 'ENVELOPE_INVALID_ARGUMENT',
          message: expect.stringContaining(name),
        });
        await expect(rewrap(ciphertext, { from: keyring, to: keyring, [name]: v })).rejects.toMatchObject({
          code: 'ENVELOPE_INVALID_ARGUMENT',
        });
      }
    }
    const encryptOptions: (keyof EncryptStreamOptions)[] = ['frameLength', 'maxEncryptedDataKeys', 'plaintextLengthBound'];
    for (const name of encryptOptions) {
      for (const v of bad) {
        const o = { keyring, [name]: v } as EncryptStreamOptions;
        expect(() => new StreamEncryptor(o), `${name}: ${String(v)}`).toThrow(
          expect.objectContaining({ code: 'ENVELOPE_INVALID_ARGUMENT', message: expect.stringContaining(name) }),
        );
      }
    }
    expect(() => new StreamDecryptor({ keyring, releaseUnverifiedPlaintext: 'yes' as unknown as boolean })).toThrow(
      /releaseUnverifiedPlaintext/,
    );
  });

  it('the limits still hold at their bounds', async () => {
    const { ciphertext } = await encrypt(Buffer.alloc(2 * MiB, 1), { keyring, suite: 0x0578, frameLength: 65536 });
    const held = await feed(new StreamDecryptor({ keyring, maxBufferedPlaintext: MiB }), chunks(ciphertext, 65536));
    expect(held.error).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED', message: expect.stringMatching(/maxBufferedPlaintext/) });
    const ok = await feed(new StreamDecryptor({ keyring, maxBufferedPlaintext: 2 * MiB }), chunks(ciphertext, 65536));
    expect(ok.error).toBeUndefined();
  });
});
