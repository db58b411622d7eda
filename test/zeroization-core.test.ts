/**
 * Zeroization audit (issue #10), the core paths: materials, the raw AES and RSA keyrings, the
 * multi-keyring, the default and required-context materials managers, and buffer encrypt and
 * decrypt in every suite, on success and on failure. The capture harness is
 * test/zeroization/capture.ts.
 */
import { cap, captured, expectAllWiped, isZero } from './zeroization/capture.js';
import { describe, expect, it } from 'vitest';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import {
  DecryptionMaterials,
  DefaultMaterialsManager,
  EncryptionMaterials,
  MultiKeyring,
  RequiredEncryptionContextMaterialsManager,
  SUITES,
  decrypt,
  encrypt,
  getSuite,
  parseHeader,
  type EncryptedDataKey,
  type MaterialsManager,
} from '@envelope/core';
import {
  ALLOW,
  aes,
  big,
  failing,
  failsAfter,
  otherAes,
  policyFor,
  pt,
  quietEncrypt,
  rsa,
  rsaPair,
  wrongRsa,
} from './zeroization/fixtures.js';

describe('materials', () => {
  it('own a private copy; copies are the caller’s to wipe; zeroize wipes the private buffer', () => {
    const suite = getSuite(0x0478);
    const m = new EncryptionMaterials({ suite, encryptionContext: {} });
    const mine = randomBytes(32);
    m.setDataKey(mine);
    const own = captured('materials-own')[0]!.buf;
    expect(own).not.toBe(mine);
    expect(isZero(own)).toBe(false);
    const copy = m.getDataKey();
    expect(copy).not.toBe(own);
    copy.fill(0); // the caller's duty, as every keyring does
    mine.fill(0);
    expect(isZero(own)).toBe(false); // wiping a copy does not touch the materials
    m.zeroize();
    expect(() => m.getDataKey()).toThrow(/zeroized/);
    const late = randomBytes(32);
    expect(() => m.setDataKey(late)).toThrow(/zeroized/);
    late.fill(0); // refused: still the caller's to wipe
    expectAllWiped({ 'materials-own': 1, 'dek-copy': 1, 'setDataKey-arg': 1 });
    const d = new DecryptionMaterials({ suite, encryptionContext: {} });
    const k = randomBytes(32);
    d.setDataKey(k);
    k.fill(0);
    d.zeroize();
    d.zeroize(); // idempotent
    expectAllWiped({ 'materials-own': 2 });
  });
});

// -------------------------------------------------------------------------------- raw keyrings

describe('raw AES and RSA keyrings', () => {
  for (const [name, keyring] of [
    ['RawAesKeyring', aes],
    ['RawRsaKeyring', rsa],
  ] as const) {
    for (const suite of [0x0014, 0x0178, 0x0478, 0x0578]) {
      it(`${name}, suite ${suite.toString(16).padStart(4, '0')}: wrap and unwrap through encrypt/decrypt`, async () => {
        const { ciphertext } = await encrypt(pt, {
          keyring,
          suite,
          commitmentPolicy: policyFor(suite),
          encryptionContext: { tenant: 'a' },
        });
        const { plaintext } = await decrypt(ciphertext, { keyring, commitmentPolicy: ALLOW });
        expect(Buffer.from(plaintext).equals(pt)).toBe(true);
        const unwrap = name === 'RawAesKeyring' ? 'aes-unwrap' : 'rsa-unwrap';
        expectAllWiped({
          'setDataKey-arg': 2,
          'materials-own': 2,
          'dek-copy': 1,
          'derived-key': 2,
          [unwrap]: 1,
          ...(getSuite(suite).commitment ? { 'commit-key': 1 } : {}),
        });
      });
    }
  }

  it('direct keyring calls: onEncrypt then onDecrypt, then the materials are zeroized', async () => {
    const suite = getSuite(0x0478);
    for (const keyring of [aes, rsa]) {
      const em = await keyring.onEncrypt(new EncryptionMaterials({ suite, encryptionContext: { a: 'b' } }));
      const dm = await keyring.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: { a: 'b' } }), em.encryptedDataKeys);
      expect(dm.hasDataKey).toBe(true);
      em.zeroize();
      dm.zeroize();
    }
    expectAllWiped({ 'setDataKey-arg': 4, 'materials-own': 4, 'aes-unwrap': 1, 'rsa-unwrap': 1 });
  });

  it('AES: a wrong context or key fails every tag; the garbage each failed attempt decrypted is wiped', async () => {
    const suite = getSuite(0x0478);
    // 'B' sorts before 'a' by UTF-8 bytes (the spec) but after it by localeCompare (the legacy JS
    // SDK order), so each attempt tries two AADs.
    const em = await aes.onEncrypt(new EncryptionMaterials({ suite, encryptionContext: { a: 'b', B: 'x' } }));
    const edks = em.encryptedDataKeys;
    em.zeroize();
    cap.log.length = 0;
    await expect(aes.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: { a: 'c', B: 'x' } }), edks)).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    await expect(otherAes.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: { a: 'b', B: 'x' } }), edks)).rejects.toMatchObject(
      { code: 'ENVELOPE_NO_DECRYPTABLE_KEY' },
    );
    // Two AAD orders per attempt (the spec's and the legacy JS SDK's differ for this context).
    expectAllWiped({ 'aes-unwrap': 4 });
    expect(captured('materials-own')).toEqual([]);
  });

  it('RSA: an unwrapped key of the wrong length is wiped before it reaches the materials', async () => {
    const suite = getSuite(0x0478);
    const short = randomBytes(16);
    const edk: EncryptedDataKey = {
      providerId: 'zero',
      providerInfo: Buffer.from('rsa'),
      ciphertext: publicEncrypt({ key: rsaPair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, short),
    };
    short.fill(0);
    await expect(rsa.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: {} }), [edk])).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    expectAllWiped({ 'rsa-unwrap': 1 });
    // A wrong private key: OAEP fails inside OpenSSL, nothing comes out.
    const { ciphertext } = await encrypt(pt, { keyring: rsa, suite: 0x0478 });
    cap.log.length = 0;
    await expect(decrypt(ciphertext, { keyring: wrongRsa })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect(captured('rsa-unwrap', 'materials-own')).toEqual([]);
  });
});

// -------------------------------------------------------------------------------- MultiKeyring

describe('MultiKeyring', () => {
  it('generator + children wrap one data key; any child unwraps it; every copy is wiped', async () => {
    const multi = new MultiKeyring({ generator: aes, children: [rsa] });
    const { ciphertext } = await encrypt(pt, { keyring: multi, suite: 0x0578 });
    await decrypt(ciphertext, { keyring: new MultiKeyring({ children: [failing, rsa] }) });
    expectAllWiped({ 'dek-copy': 2, 'materials-own': 2, 'rsa-unwrap': 1, 'derived-key': 2, 'commit-key': 1 });
  });

  it('a child failing after the generator made the data key: encrypt fails, the data key is wiped', async () => {
    await expect(encrypt(pt, { keyring: new MultiKeyring({ generator: aes, children: [rsa, failing] }) })).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
    expectAllWiped({ 'materials-own': 1, 'dek-copy': 2 });
    expect(captured('derived-key')).toEqual([]);
  });

  it('decrypt: a keyring that set the data key and then threw — the materials are zeroized', async () => {
    const ciphertext = await quietEncrypt(pt, { keyring: aes });
    await expect(decrypt(ciphertext, { keyring: new MultiKeyring({ children: [failsAfter(aes)] }) })).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    expectAllWiped({ 'materials-own': 1, 'aes-unwrap': 1 });
  });
});

// -------------------------------------------------------------------------- materials managers

describe('default and required-context materials managers', () => {
  it('default manager: a keyring that set the data key and then failed (encrypt and decrypt)', async () => {
    const dmm = new DefaultMaterialsManager(failsAfter(aes));
    await expect(encrypt(pt, { materialsManager: dmm })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    const ciphertext = await quietEncrypt(pt, { keyring: aes });
    await expect(decrypt(ciphertext, { materialsManager: dmm })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    expectAllWiped({ 'materials-own': 2, 'aes-unwrap': 1, 'dek-copy': 1 });
  });

  it('required-context manager: round trip, a wrong reproduced value, a missing one', async () => {
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: aes, requiredEncryptionContextKeys: ['tenant'] });
    const { ciphertext } = await encrypt(pt, { materialsManager: cmm, encryptionContext: { tenant: 't1', app: 'x' } });
    await decrypt(ciphertext, { materialsManager: cmm, encryptionContext: { tenant: 't1' } });
    expectAllWiped({ 'materials-own': 2, 'derived-key': 2 });
    cap.log.length = 0;
    // A wrong value: raw AES binds the whole context (required pairs too), so its tag fails.
    await expect(decrypt(ciphertext, { materialsManager: cmm, encryptionContext: { tenant: 't2' } })).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    await expect(decrypt(ciphertext, { materialsManager: cmm })).rejects.toMatchObject({ code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH' });
    expectAllWiped({ 'aes-unwrap': 1 });
  });

  it('required-context manager: an underlying manager that drops the required keys gets its materials zeroized', async () => {
    const dmm = new DefaultMaterialsManager(aes);
    const dropping: MaterialsManager = {
      getEncryptionMaterials: (r) => dmm.getEncryptionMaterials({ ...r, requiredEncryptionContextKeys: [] }),
      decryptMaterials: async (r) => {
        const m = await dmm.decryptMaterials({ ...r, reproducedEncryptionContext: undefined });
        return m;
      },
    };
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: dropping, requiredEncryptionContextKeys: ['tenant'] });
    await expect(encrypt(pt, { materialsManager: cmm, encryptionContext: { tenant: 't1' } })).rejects.toMatchObject({
      code: 'ENVELOPE_MATERIALS',
    });
    expectAllWiped({ 'materials-own': 1 });
    const ciphertext = await quietEncrypt(pt, { keyring: aes, encryptionContext: { app: 'x' } });
    await expect(decrypt(ciphertext, { materialsManager: cmm, encryptionContext: { tenant: 't1' } })).rejects.toMatchObject({
      code: 'ENVELOPE_MATERIALS',
    });
    expectAllWiped({ 'materials-own': 1, 'aes-unwrap': 1 });
  });
});

// ------------------------------------------------------------------------ buffer encrypt/decrypt

describe('buffer encrypt and decrypt', () => {
  it('every suite: round trip (framed v1/v2, signed and unsigned, identity KDF)', async () => {
    for (const suite of SUITES.values()) {
      cap.log.length = 0;
      const { ciphertext } = await encrypt(big, {
        keyring: aes,
        suite: suite.id,
        commitmentPolicy: policyFor(suite.id),
        frameLength: 4096,
      });
      const { plaintext } = await decrypt(ciphertext, { keyring: aes, commitmentPolicy: ALLOW });
      expect(Buffer.from(plaintext).equals(big)).toBe(true);
      expectAllWiped({ 'derived-key': 2, 'materials-own': 2, 'aes-unwrap': 1, ...(suite.kdfHash ? { 'hkdf-internal': 4 } : {}) });
    }
  });

  it('failures after the data key was unwrapped: bad frame tag, bad header tag, bad commit key, wrong context, truncation', async () => {
    const ciphertext = await quietEncrypt(big, { keyring: aes, suite: 0x0478, encryptionContext: { tenant: 'a' } });
    const h = parseHeader(ciphertext, { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 });
    const flip = (at: number): Buffer => {
      const b = Buffer.from(ciphertext);
      b[at]! ^= 1;
      return b;
    };
    const cases: [string, Uint8Array, Record<string, string> | undefined, string][] = [
      ['frame tag', flip(ciphertext.byteLength - 5), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['middle frame', flip(h.length + 5000), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['header tag', flip(h.length - 1), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['commit key', flip(h.body.byteLength - 1), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['wrong context', ciphertext, { tenant: 'b' }, 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH'],
      ['truncated', ciphertext.subarray(0, ciphertext.byteLength - 100), undefined, 'ENVELOPE_MALFORMED_MESSAGE'],
    ];
    for (const [what, msg, ec, code] of cases) {
      cap.log.length = 0;
      await expect(decrypt(msg, { keyring: aes, encryptionContext: ec }), what).rejects.toMatchObject({ code });
      // A conflicting caller context is refused before any keyring runs: nothing was unwrapped.
      if (what === 'wrong context') expect(captured()).toEqual([]);
      else
        expectAllWiped({
          'aes-unwrap': 1,
          'materials-own': 1,
          'hkdf-internal': 3,
          'commit-key': 1,
          ...(what === 'commit key' ? {} : { 'derived-key': 1 }),
        });
    }
  });
});
