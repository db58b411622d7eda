import { describe, expect, it } from 'vitest';
import { EnvelopeError, decrypt, encrypt, type ErrorCode } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring();
const REJECTIONS: ErrorCode[] = [
  'ENVELOPE_AUTHENTICATION_FAILED',
  'ENVELOPE_MALFORMED_MESSAGE',
  // A flipped version byte, or nothing at all, is no message.
  'ENVELOPE_NOT_A_MESSAGE',
  'ENVELOPE_UNSUPPORTED',
  // A flipped bit in the context or an EDK makes the keyring unable to unwrap.
  'ENVELOPE_NO_DECRYPTABLE_KEY',
  // A flipped bit in the frame length can push it past maxFrameLength: refused before any work.
  'ENVELOPE_LIMIT_EXCEEDED',
];

async function rejection(message: Uint8Array, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT'): Promise<ErrorCode> {
  try {
    const { plaintext } = await decrypt(message, { keyring, commitmentPolicy, encryptionContext: undefined });
    throw new Error(`decrypt released ${plaintext.byteLength} bytes of plaintext`);
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    return e.code;
  }
}

describe.each([
  ['0x0478 (committing, unsigned)', 0x0478],
  ['0x0578 (committing, signed)', 0x0578],
  ['0x0178 (v1, HKDF)', 0x0178],
  ['0x0014 (v1, no KDF)', 0x0014],
])('tampering with a %s message', (_name, suite) => {
  const policy = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' as const;
  const pt = Buffer.from('attack at dawn; the quick brown fox jumps over the lazy dog, twice or thrice');
  const made = encrypt(pt, {
    keyring,
    suite,
    frameLength: 32,
    encryptionContext: { purpose: 'tamper' },
    commitmentPolicy: suite >= 0x0478 ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT',
  });

  it('decrypts untouched', async () => {
    const { ciphertext } = await made;
    expect(Buffer.from((await decrypt(ciphertext, { keyring, commitmentPolicy: policy })).plaintext).equals(pt)).toBe(true);
  });

  it('rejects every single-bit flip with a coded error and no plaintext', async () => {
    const { ciphertext } = await made;
    const seen = new Map<ErrorCode, number>();
    for (let i = 0; i < ciphertext.byteLength * 8; i++) {
      const bad = Buffer.from(ciphertext);
      bad[i >> 3]! ^= 1 << (i & 7);
      const code = await rejection(bad, policy);
      expect(REJECTIONS, `bit ${i}`).toContain(code);
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // The body is most of the message: most flips are caught by authentication.
    expect(seen.get('ENVELOPE_AUTHENTICATION_FAILED') ?? 0).toBeGreaterThan(ciphertext.byteLength * 4);
    // A signed message is ~4,000 decrypts with an ECDSA P-384 verify each: seconds alone, but
    // past vitest's 30 s default when the whole suite shares two cores.
  }, 180_000);

  it('rejects truncation at every byte', async () => {
    const { ciphertext } = await made;
    for (let n = 0; n < ciphertext.byteLength; n++) {
      const code = await rejection(ciphertext.subarray(0, n), policy);
      expect(REJECTIONS, `truncated to ${n}`).toContain(code);
    }
  });

  it('rejects a byte appended', async () => {
    const { ciphertext } = await made;
    expect(await rejection(Buffer.concat([ciphertext, Buffer.from([0])]), policy)).toBe('ENVELOPE_MALFORMED_MESSAGE');
  });
});
