import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import {
  MultiKeyring,
  RequiredEncryptionContextMaterialsManager,
  decrypt,
  decryptStream,
  encrypt,
  encryptStream,
  type Keyring,
} from '@envelope/core';
import { CachingMaterialsManager } from '../src/index.js';
import { CountingKeyring } from './helpers/counting-keyring.js';

const pt = Buffer.from('hello, cached world '.repeat(60));

async function drain(s: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('end to end with encrypt/decrypt', () => {
  for (const suite of [0x0478, 0x0578, 0x0178, 0x0378]) {
    it(`suite 0x${suite.toString(16).padStart(4, '0')}: one keyring call for many messages, each with its own message key`, async () => {
      const k = new CountingKeyring();
      const commitmentPolicy = suite === 0x0478 || suite === 0x0578 ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT';
      const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
      const cts: Uint8Array[] = [];
      for (let i = 0; i < 20; i++)
        cts.push((await encrypt(pt, { materialsManager: cmm, suite, commitmentPolicy, encryptionContext: { app: 'e2e' } })).ciphertext);
      expect(k.encrypts).toBe(1);
      // Different message ids, so different derived keys: no two ciphertext bodies agree.
      expect(new Set(cts.map((c) => Buffer.from(c).toString('base64'))).size).toBe(20);
      for (const c of cts) {
        const r = await decrypt(c, { materialsManager: cmm, commitmentPolicy, encryptionContext: { app: 'e2e' } });
        expect(Buffer.from(r.plaintext).equals(pt)).toBe(true);
      }
      expect(k.decrypts).toBe(1);
      // And a plain keyring decrypts them too (signed suites: the cached signing key matches
      // the public key in each header).
      expect(Buffer.from((await decrypt(cts[7]!, { keyring: k, commitmentPolicy })).plaintext).equals(pt)).toBe(true);
    });
  }

  it('signed suites: the signing key and its public-key context entry are cached with the data key', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const a = await cmm.getEncryptionMaterials({
      encryptionContext: {},
      commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
      plaintextLength: 1,
    });
    const b = await cmm.getEncryptionMaterials({
      encryptionContext: {},
      commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
      plaintextLength: 1,
    });
    expect(a.suite.id).toBe(0x0578);
    expect(a.signingKey).toBeDefined();
    expect(b.signingKey).toBe(a.signingKey);
    expect(b.encryptionContext['aws-crypto-public-key']).toBe(a.encryptionContext['aws-crypto-public-key']);
  });

  it('streams with a length bound, and decrypt streams, use the cache', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000, maxBytesEncrypted: 10_000 });
    const cts: Buffer[] = [];
    for (let i = 0; i < 3; i++)
      cts.push(
        await drain(Readable.from([pt]).pipe(encryptStream({ materialsManager: cmm, suite: 0x0478, plaintextLengthBound: pt.length }))),
      );
    expect(k.encrypts).toBe(1);
    for (const c of cts) expect((await drain(Readable.from([c]).pipe(decryptStream({ materialsManager: cmm })))).equals(pt)).toBe(true);
    expect(k.decrypts).toBe(1);
  });

  it('over a required-encryption-context manager, over a multi-keyring', async () => {
    const k1 = new CountingKeyring();
    const k2 = new CountingKeyring();
    const multi: Keyring = new MultiKeyring({ generator: k1, children: [k2] });
    const req = new RequiredEncryptionContextMaterialsManager({ underlying: multi, requiredEncryptionContextKeys: ['tenant'] });
    const cmm = new CachingMaterialsManager({ underlying: req, maxAgeMs: 60_000 });
    const ctx = { tenant: 't1', other: 'x' };
    const cts: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) cts.push((await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: ctx })).ciphertext);
    expect(k1.encrypts).toBe(1);
    expect(k2.encrypts).toBe(1);
    for (const c of cts)
      expect(Buffer.from((await decrypt(c, { materialsManager: cmm, encryptionContext: { tenant: 't1' } })).plaintext).equals(pt)).toBe(
        true,
      );
    await expect(decrypt(cts[0]!, { materialsManager: cmm, encryptionContext: { tenant: 't2' } })).rejects.toThrow();
  });

  it('a cached decrypt entry does not make a tampered message decrypt', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const { ciphertext } = await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    await decrypt(ciphertext, { materialsManager: cmm });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 20]! ^= 1;
    await expect(decrypt(bad, { materialsManager: cmm })).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
    expect(k.decrypts).toBe(1);
  });
});
