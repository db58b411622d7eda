/**
 * 15.i2: contexts are null-prototype objects throughout, so a key named `__proto__` (or
 * `constructor`) is an ordinary key: stored, authenticated, compared, never dropped.
 */
import { describe, expect, it } from 'vitest';
import { checkEncryptionContext, decrypt, decryptStream, encrypt, encryptionContextFromPairs, parseHeader } from '../src/index.js';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring();
const limits = { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 };

describe('15.i2: __proto__ is an ordinary context key', () => {
  it('15.i2: encryptionContextFromPairs keeps __proto__ and constructor as own keys, frozen, without a prototype', () => {
    const ec = encryptionContextFromPairs([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['tenant', 'a'],
    ]);
    expect(Object.keys(ec)).toEqual(['__proto__', 'constructor', 'tenant']);
    expect(ec['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(ec)).toBeNull();
    expect(Object.isFrozen(ec)).toBe(true);
    expect(() =>
      encryptionContextFromPairs([
        ['k', '1'],
        ['k', '2'],
      ]),
    ).toThrow(expect.objectContaining({ code: 'ENVELOPE_INVALID_ARGUMENT', message: expect.stringMatching(/"k" given twice/) }));
    // A JSON object's own "__proto__" key survives the edge check as well.
    expect(Object.keys(checkEncryptionContext(JSON.parse('{"__proto__":"x"}')))).toEqual(['__proto__']);
  });

  for (const suite of [0x0478, 0x0578]) {
    it(`15.i2: suite 0x0${suite.toString(16)}: stored in the header, required on decrypt, compared by value`, async () => {
      const ec = encryptionContextFromPairs([['__proto__', 'x']]);
      const { ciphertext } = await encrypt(Buffer.from('hello'), { keyring, suite, encryptionContext: ec });
      expect(parseHeader(ciphertext, limits).encryptionContext['__proto__']).toBe('x');
      const out = await decrypt(ciphertext, { keyring, encryptionContext: ec });
      expect(out.encryptionContext['__proto__']).toBe('x');
      await expect(
        decrypt(ciphertext, { keyring, encryptionContext: encryptionContextFromPairs([['__proto__', 'other']]) }),
      ).rejects.toMatchObject({ code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH' });
      // The stream reports the same authenticated context.
      let seen: Record<string, string> | undefined;
      const d = decryptStream({ keyring, encryptionContext: ec });
      d.on('messageInfo', (_info, context: Record<string, string>) => (seen = context));
      await pipeline(Readable.from([ciphertext]), d, new Writable({ write: (_c, _e, cb) => cb() }));
      expect(seen?.['__proto__']).toBe('x');
    });
  }
});
