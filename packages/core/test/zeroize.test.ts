import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DecryptionMaterials,
  EncryptionMaterials,
  decrypt,
  decryptStream,
  encrypt,
  encryptStream,
  type EncryptedDataKey,
  type Keyring,
} from '../src/index.js';
import { borrowDataKey } from '../src/materials/materials.js';
import { TestKeyring } from './helpers/test-keyring.js';

/** Wraps a keyring and keeps each materials' own data-key buffer (not a copy) to inspect later. */
class Spy implements Keyring {
  readonly buffers: Uint8Array[] = [];
  readonly materials: (EncryptionMaterials | DecryptionMaterials)[] = [];
  constructor(readonly inner: Keyring) {}
  async onEncrypt(m: EncryptionMaterials) {
    await this.inner.onEncrypt(m);
    this.buffers.push(borrowDataKey(m));
    this.materials.push(m);
    return m;
  }
  async onDecrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[]) {
    await this.inner.onDecrypt(m, edks);
    this.buffers.push(borrowDataKey(m));
    this.materials.push(m);
    return m;
  }
}

const allZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

describe('data keys are wiped once encrypt and decrypt return', () => {
  for (const suite of [0x0014, 0x0178, 0x0478, 0x0578]) {
    it(`buffer API, suite ${suite.toString(16)}`, async () => {
      const spy = new Spy(new TestKeyring());
      const policy = suite >= 0x0478 ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT';
      const { ciphertext } = await encrypt(Buffer.from('secret'), { keyring: spy, suite, commitmentPolicy: policy });
      await decrypt(ciphertext, { keyring: spy, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' });
      expect(spy.buffers).toHaveLength(2);
      for (const b of spy.buffers) {
        expect(b.byteLength).toBeGreaterThan(0);
        expect(allZero(b)).toBe(true);
      }
      for (const m of spy.materials) {
        expect(m.zeroized).toBe(true);
        expect(() => m.getDataKey()).toThrow(/zeroized/);
      }
    });
  }

  it('streams, and after a failed decrypt', async () => {
    const spy = new Spy(new TestKeyring());
    const parts: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.alloc(10_000, 1)]),
      encryptStream({ keyring: spy }),
      new Writable({
        write(c, _e, cb) {
          parts.push(c);
          cb();
        },
      }),
    );
    const ct = Buffer.concat(parts);
    await pipeline(
      Readable.from([ct]),
      decryptStream({ keyring: spy }),
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    );
    const bad = Buffer.from(ct);
    bad[bad.length - 40]! ^= 1;
    await expect(decrypt(bad, { keyring: spy })).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    expect(spy.buffers).toHaveLength(3);
    for (const b of spy.buffers) expect(allZero(b)).toBe(true);
  });

  it('materials hand out copies and never print the key', async () => {
    const spy = new Spy(new TestKeyring());
    await encrypt(Buffer.from('x'), { keyring: spy, suite: 0x0478 });
    const m = new EncryptionMaterials({ suite: spy.materials[0]!.suite, encryptionContext: {} });
    const key = Buffer.alloc(32, 9);
    m.setDataKey(key);
    key.fill(0);
    const copy = m.getDataKey();
    expect(copy.every((x) => x === 9)).toBe(true);
    copy.fill(1);
    expect(m.getDataKey().every((x) => x === 9)).toBe(true);
    expect(() => m.setDataKey(Buffer.alloc(32))).toThrow(/already set/);
    expect(JSON.stringify(m)).not.toContain('9,9');
    const { inspect } = await import('node:util');
    expect(inspect(m)).not.toMatch(/9, 9/);
  });
});
