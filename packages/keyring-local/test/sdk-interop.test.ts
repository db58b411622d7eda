/**
 * Keyring-level interop with the AWS Encryption SDK for JavaScript (@aws-crypto/client-node):
 * EDKs wrapped by our raw keyrings unwrap with RawAesKeyringNode / RawRsaKeyringNode and vice
 * versa, through each side's own materials. (Message-level interop lives in the root test/.)
 */
import { describe, expect, it } from 'vitest';
import { constants, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  AlgorithmSuiteIdentifier,
  EncryptedDataKey as SdkEncryptedDataKey,
  NodeAlgorithmSuite,
  NodeDecryptionMaterial,
  NodeEncryptionMaterial,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
  unwrapDataKey,
  type KeyringNode,
} from '@aws-crypto/client-node';
import type { EncryptedDataKey, EncryptionContext, Keyring } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring, type RsaPadding } from '@envelope/keyring-local';
import { decryptionMaterials, encryptionMaterials, expectCode, hex } from './helpers.js';

const SDK_SUITE: Record<16 | 24 | 32, AlgorithmSuiteIdentifier> = {
  16: AlgorithmSuiteIdentifier.ALG_AES128_GCM_IV12_TAG16_HKDF_SHA256,
  24: AlgorithmSuiteIdentifier.ALG_AES192_GCM_IV12_TAG16_HKDF_SHA256,
  32: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256,
};
const WRAPPING: Record<16 | 24 | 32, (typeof RawAesWrappingSuiteIdentifier)[keyof typeof RawAesWrappingSuiteIdentifier]> = {
  16: RawAesWrappingSuiteIdentifier.AES128_GCM_IV12_TAG16_NO_PADDING,
  24: RawAesWrappingSuiteIdentifier.AES192_GCM_IV12_TAG16_NO_PADDING,
  32: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
};
const CONTEXT: EncryptionContext = { purpose: 'interop', tenant: 'acme', ключ: 'значение' };

/** Our EDK as the SDK's deserializer would build it (providerInfo as text, raw bytes kept). */
function toSdk(edk: EncryptedDataKey): SdkEncryptedDataKey {
  return new SdkEncryptedDataKey({
    providerId: edk.providerId,
    providerInfo: Buffer.from(edk.providerInfo).toString('utf8'),
    rawInfo: new Uint8Array(edk.providerInfo),
    encryptedDataKey: new Uint8Array(edk.ciphertext),
  });
}

function fromSdk(edk: SdkEncryptedDataKey): EncryptedDataKey {
  return {
    providerId: edk.providerId,
    providerInfo: edk.rawInfo ?? Buffer.from(edk.providerInfo, 'utf8'),
    ciphertext: edk.encryptedDataKey,
  };
}

function sdkKey(m: NodeEncryptionMaterial | NodeDecryptionMaterial): Uint8Array {
  return unwrapDataKey(m.getUnencryptedDataKey());
}

/** Wraps with ours, unwraps with theirs; then wraps with theirs, unwraps with ours. */
async function bothWays(ours: Keyring, theirs: KeyringNode, keyLength: 16 | 24 | 32, context: EncryptionContext = CONTEXT) {
  const suite = new NodeAlgorithmSuite(SDK_SUITE[keyLength]);
  // ours → SDK
  const em = await ours.onEncrypt(encryptionMaterials(keyLength, context));
  const sdkDm = await theirs.onDecrypt(new NodeDecryptionMaterial(suite, { ...context }), em.encryptedDataKeys.map(toSdk));
  expect(sdkDm.hasUnencryptedDataKey, 'SDK unwrapped our EDK').toBe(true);
  expect(hex(sdkKey(sdkDm))).toBe(hex(em.getDataKey()));
  // SDK → ours
  const sdkEm = await theirs.onEncrypt(new NodeEncryptionMaterial(suite, { ...context }));
  const dm = await ours.onDecrypt(decryptionMaterials(keyLength, context), sdkEm.encryptedDataKeys.map(fromSdk));
  expect(hex(dm.getDataKey())).toBe(hex(sdkKey(sdkEm)));
}

describe('raw AES keyring interop with RawAesKeyringNode', () => {
  for (const len of [16, 24, 32] as const) {
    it(`AES-${len * 8}-GCM wrapping key, both directions, data keys of 16/24/32 bytes`, async () => {
      const key = randomBytes(len);
      const ours = new RawAesKeyring({ keyNamespace: 'interop', keyName: `aes-${len * 8}`, wrappingKey: key });
      // utf8Sorting: the spec's byte order, as we write (the SDK wipes the key buffer it is given).
      const theirs = new RawAesKeyringNode({
        keyNamespace: 'interop',
        keyName: `aes-${len * 8}`,
        unencryptedMasterKey: new Uint8Array(key),
        wrappingSuite: WRAPPING[len],
        utf8Sorting: true,
      });
      for (const keyLength of [16, 24, 32] as const) await bothWays(ours, theirs, keyLength);
      await bothWays(ours, theirs, 32, {});
    });
  }

  it('unwraps EDKs the SDK wrote with its legacy (localeCompare) context order', async () => {
    const key = randomBytes(32);
    const ours = new RawAesKeyring({ keyNamespace: 'interop', keyName: 'aes', wrappingKey: key });
    const legacy = new RawAesKeyringNode({
      keyNamespace: 'interop',
      keyName: 'aes',
      unencryptedMasterKey: new Uint8Array(key),
      wrappingSuite: WRAPPING[32],
    });
    // 'é' sorts before 'purpose' with localeCompare, after it in UTF-8 byte order; 'B' < 'a' in bytes only.
    const context = { purpose: 'x', é: 'accent', a: '1', B: '2' };
    const suite = new NodeAlgorithmSuite(SDK_SUITE[32]);
    const sdkEm = await legacy.onEncrypt(new NodeEncryptionMaterial(suite, context));
    const dm = await ours.onDecrypt(decryptionMaterials(32, context), sdkEm.encryptedDataKeys.map(fromSdk));
    expect(hex(dm.getDataKey())).toBe(hex(sdkKey(sdkEm)));
    // The other way needs utf8Sorting: true on the SDK side (documented in docs/keyrings.md):
    const em = await ours.onEncrypt(encryptionMaterials(32, context));
    const sdkDm = await legacy.onDecrypt(new NodeDecryptionMaterial(suite, context), em.encryptedDataKeys.map(toSdk));
    expect(sdkDm.hasUnencryptedDataKey).toBe(false);
    // ...and a genuinely different context still fails under both orders.
    await expectCode(
      () => ours.onDecrypt(decryptionMaterials(32, { ...context, a: '9' }), sdkEm.encryptedDataKeys.map(fromSdk)),
      'ENVELOPE_NO_DECRYPTABLE_KEY',
    );
  });

  it('the SDK skips our EDK for another key name, and we skip theirs', async () => {
    const key = randomBytes(32);
    const ours = new RawAesKeyring({ keyNamespace: 'interop', keyName: 'aes-a', wrappingKey: key });
    const theirs = new RawAesKeyringNode({
      keyNamespace: 'interop',
      keyName: 'aes-b',
      unencryptedMasterKey: new Uint8Array(key),
      wrappingSuite: WRAPPING[32],
      utf8Sorting: true,
    });
    const suite = new NodeAlgorithmSuite(SDK_SUITE[32]);
    const em = await ours.onEncrypt(encryptionMaterials(32, CONTEXT));
    const sdkDm = await theirs.onDecrypt(new NodeDecryptionMaterial(suite, { ...CONTEXT }), em.encryptedDataKeys.map(toSdk));
    expect(sdkDm.hasUnencryptedDataKey).toBe(false);
    const sdkEm = await theirs.onEncrypt(new NodeEncryptionMaterial(suite, { ...CONTEXT }));
    const m = decryptionMaterials(32, CONTEXT);
    await expect(ours.onDecrypt(m, sdkEm.encryptedDataKeys.map(fromSdk))).resolves.toBe(m);
    expect(m.hasDataKey).toBe(false);
  });
});

describe('raw RSA keyring interop with RawRsaKeyringNode', () => {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const sdkOptions: Record<RsaPadding, { padding: number; oaepHash?: 'sha1' | 'sha256' | 'sha384' | 'sha512' }> = {
    pkcs1: { padding: constants.RSA_PKCS1_PADDING },
    'oaep-sha1': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    'oaep-sha256': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    'oaep-sha384': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha384' },
    'oaep-sha512': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha512' },
  };
  const pair4 = (padding: RsaPadding) => ({
    ours: new RawRsaKeyring({
      keyNamespace: 'interop-rsa',
      keyName: 'rsa-2048',
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
      padding,
      allowPkcs1Decrypt: padding === 'pkcs1',
    }),
    theirs: new RawRsaKeyringNode({
      keyNamespace: 'interop-rsa',
      keyName: 'rsa-2048',
      rsaKey: { publicKey: pair.publicKey, privateKey: pair.privateKey },
      ...sdkOptions[padding],
    }),
  });

  for (const padding of ['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512'] as const) {
    it(`${padding} (MGF1 with the same hash), both directions`, async () => {
      const { ours, theirs } = pair4(padding);
      for (const keyLength of [16, 32] as const) await bothWays(ours, theirs, keyLength);
    });
  }

  // pkcs1 both directions: Node 20 refuses PKCS#1 v1.5 decryption in the test workers, so
  // pkcs1-child.test.ts runs it in a child node with --security-revert=CVE-2023-46809.

  it('the SDK cannot read an EDK wrapped with another OAEP hash (padding is not on the wire)', async () => {
    const ours = pair4('oaep-sha256').ours;
    const theirs = pair4('oaep-sha1').theirs;
    const suite = new NodeAlgorithmSuite(SDK_SUITE[32]);
    const em = await ours.onEncrypt(encryptionMaterials(32, CONTEXT));
    const sdkDm = await theirs.onDecrypt(new NodeDecryptionMaterial(suite, { ...CONTEXT }), em.encryptedDataKeys.map(toSdk));
    expect(sdkDm.hasUnencryptedDataKey).toBe(false);
  });
});
