import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EnvelopeError, decrypt, encrypt } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring();

// Context keys may be any well-formed Unicode except the reserved prefix.
const contextArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((k) => !k.startsWith('aws-crypto-')),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  { maxKeys: 5 },
);

describe('properties', () => {
  it('round trips arbitrary plaintexts, contexts, frame lengths and suites', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        contextArb,
        fc.integer({ min: 1, max: 1500 }),
        fc.constantFrom(0x0478, 0x0578),
        async (pt, ec, frameLength, suite) => {
          const { ciphertext } = await encrypt(pt, { keyring, encryptionContext: ec, frameLength, suite });
          const out = await decrypt(ciphertext, { keyring, encryptionContext: ec });
          expect(Buffer.from(out.plaintext).equals(Buffer.from(pt))).toBe(true);
          for (const [k, v] of Object.entries(ec)) expect(out.encryptionContext[k]).toBe(v);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary bytes into decrypt only ever raise our coded errors', async () => {
    const { ciphertext } = await encrypt(Buffer.from('seed message for mutation'), { keyring, suite: 0x0478, frameLength: 8 });
    const mutated = fc
      .tuple(fc.integer({ min: 0, max: ciphertext.byteLength - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([at, bytes]) => {
        const b = Buffer.from(ciphertext);
        b.set(bytes.subarray(0, b.length - at), at);
        return new Uint8Array(b);
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), async (bytes) => {
        try {
          await decrypt(bytes, { keyring, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' });
        } catch (e) {
          expect(e).toBeInstanceOf(EnvelopeError);
          return;
        }
        // Only the unmodified message may decrypt (a mutation that wrote the same bytes back).
        expect(Buffer.from(bytes).equals(Buffer.from(ciphertext))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
