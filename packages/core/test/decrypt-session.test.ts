/**
 * DecryptSession.begin owns the derived key from the moment it is derived: if building the
 * frame decrypter (or anything after it) throws, the key is wiped before the error leaves.
 * The KDF is wrapped to record each derived key; the frame decrypter's constructor is made to
 * throw on demand.
 */
import { describe, expect, it, vi } from 'vitest';
import { decrypt, decryptStream, encrypt } from '../src/index.js';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TestKeyring } from './helpers/test-keyring.js';

const state = vi.hoisted(() => ({ keys: [] as Uint8Array[], failDecrypter: false }));

vi.mock('../src/crypto/kdf.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/kdf.js')>();
  return {
    ...real,
    deriveKeys: (...a: Parameters<typeof real.deriveKeys>) => {
      const d = real.deriveKeys(...a);
      state.keys.push(d.key);
      return d;
    },
  };
});

vi.mock('../src/format/frame.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/format/frame.js')>();
  class FrameDecrypter extends real.FrameDecrypter {
    constructor(...a: ConstructorParameters<typeof real.FrameDecrypter>) {
      if (state.failDecrypter) throw new Error('frame decrypter failed');
      super(...a);
    }
  }
  return { ...real, FrameDecrypter };
});

const keyring = new TestKeyring();

describe('DecryptSession.begin', () => {
  it('wipes the derived key when the frame decrypter cannot be built (buffer and stream)', async () => {
    const { ciphertext } = await encrypt(Buffer.alloc(100, 1), { keyring, suite: 0x0578 });
    state.failDecrypter = true;
    try {
      state.keys.length = 0;
      await expect(decrypt(ciphertext, { keyring })).rejects.toThrow('frame decrypter failed');
      await expect(
        pipeline(Readable.from([ciphertext]), decryptStream({ keyring }), new Writable({ write: (_c, _e, cb) => cb() })),
      ).rejects.toThrow('frame decrypter failed');
      expect(state.keys).toHaveLength(2);
      for (const k of state.keys) expect(k.every((b) => b === 0)).toBe(true);
    } finally {
      state.failDecrypter = false;
    }
  });

  it('and a successful decrypt wipes it when the message ends', async () => {
    const { ciphertext } = await encrypt(Buffer.alloc(100, 1), { keyring, suite: 0x0478 });
    state.keys.length = 0;
    await decrypt(ciphertext, { keyring });
    expect(state.keys).toHaveLength(1);
    expect(state.keys[0]!.every((b) => b === 0)).toBe(true);
  });
});
