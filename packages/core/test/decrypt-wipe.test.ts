/**
 * 15.12: the buffer decrypt leaves no per-frame plaintext copies behind. node:crypto is wrapped
 * so that every buffer a frame decipher hands back (its plaintext copy) is recorded; after
 * decrypt returns, each must be all zeros: the caller holds the only plaintext, in the result.
 */
import { describe, expect, it, vi } from 'vitest';
import { decrypt, encrypt } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const seen = vi.hoisted(() => ({ outputs: [] as Uint8Array[] }));

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  type Update = (...a: unknown[]) => Buffer;
  const createDecipheriv = (...a: Parameters<typeof real.createDecipheriv>) => {
    const d = real.createDecipheriv(...a);
    // Only the frame codec's deciphers: the test keyring's own unwrap is not a frame.
    if (/packages\/core\/src\/format\/frame\.[jt]s/.test(new Error().stack ?? '')) {
      const update = (d.update as Update).bind(d);
      (d as unknown as { update: Update }).update = (...u: unknown[]) => {
        const out = update(...u);
        seen.outputs.push(out);
        return out;
      };
    }
    return d;
  };
  return { ...real, default: { ...real, createDecipheriv }, createDecipheriv };
});

const keyring = new TestKeyring();

describe('15.12: buffer decrypt wipes its per-frame plaintext copies', () => {
  for (const suite of [0x0478, 0x0578, 0x0178]) {
    it(`15.12: suite 0x${suite.toString(16).padStart(4, '0')}, 10 frames: every decipher output is zero after decrypt returns`, async () => {
      const pt = Buffer.alloc(10 * 512 - 7);
      for (let i = 0; i < pt.length; i++) pt[i] = (i * 31 + 1) & 0xff || 1;
      const { ciphertext } = await encrypt(pt, {
        keyring,
        suite,
        frameLength: 512,
        commitmentPolicy: suite < 0x0400 ? 'FORBID_ENCRYPT_ALLOW_DECRYPT' : undefined,
      });
      seen.outputs.length = 0;
      const { plaintext } = await decrypt(ciphertext, { keyring, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' });
      expect(Buffer.from(plaintext).equals(pt)).toBe(true);
      const frames = seen.outputs.filter((b) => b.byteLength > 0);
      expect(frames.length).toBe(10);
      for (const [i, b] of frames.entries())
        expect(
          b.every((x) => x === 0),
          `frame ${i + 1}'s decipher output`,
        ).toBe(true);
    });
  }

  it('15.12: a failed decrypt (bad signature) leaves no plaintext copy either', async () => {
    const { ciphertext } = await encrypt(Buffer.alloc(3000, 5), { keyring, suite: 0x0578, frameLength: 512 });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 3]! ^= 1;
    seen.outputs.length = 0;
    await expect(decrypt(bad, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    expect(seen.outputs.filter((b) => b.byteLength > 0).length).toBe(6);
    for (const b of seen.outputs) expect(b.every((x) => x === 0)).toBe(true);
  });
});
