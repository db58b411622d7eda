/**
 * Interop with the real AWS Encryption SDK for JavaScript (@aws-crypto/client-node), both
 * directions: every suite the SDK can write, sizes around the frame boundary and 1 MiB,
 * several frame lengths, non-ASCII context keys, raw AES and raw RSA keyrings.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
  buildClient,
} from '@aws-crypto/client-node';
import { constants } from 'node:crypto';
import { decrypt, encrypt, SUITES, type CommitmentPolicy as OurPolicy } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';

const aesKey = randomBytes(32);
const ours = {
  aes: new RawAesKeyring({ keyNamespace: 'interop', keyName: 'aes-256', wrappingKey: Buffer.from(aesKey) }),
};
// The SDK's default (legacy) context ordering for its raw AES keyring writes; utf8Sorting for
// reading ours (we write the spec's byte order). Both directions are covered.
const sdkAesLegacy = new RawAesKeyringNode({
  keyNamespace: 'interop',
  keyName: 'aes-256',
  unencryptedMasterKey: new Uint8Array(aesKey), // the SDK takes ownership of (and wipes) the buffer it is given
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
const sdkAes = new RawAesKeyringNode({
  keyNamespace: 'interop',
  keyName: 'aes-256',
  unencryptedMasterKey: new Uint8Array(aesKey), // the SDK takes ownership of (and wipes) the buffer it is given
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  utf8Sorting: true,
});
const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const oursRsa = new RawRsaKeyring({
  keyNamespace: 'interop-rsa',
  keyName: 'rsa-2048',
  publicKey: rsa.publicKey,
  privateKey: rsa.privateKey,
  padding: 'oaep-sha256',
});
const sdkRsa = new RawRsaKeyringNode({
  keyNamespace: 'interop-rsa',
  keyName: 'rsa-2048',
  rsaKey: { publicKey: rsa.publicKey, privateKey: rsa.privateKey },
  padding: constants.RSA_PKCS1_OAEP_PADDING,
  oaepHash: 'sha256',
});

const sdkCommitting = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const sdkLegacy = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
const sdkAllow = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 251 + 13) & 0xff;
  return b;
}

// Non-ASCII keys, chosen so the SDK's legacy localeCompare ordering ('é' before 'purpose')
// differs from the spec's UTF-8 byte order; see docs/keyrings.md on its utf8Sorting option.
const context = { purpose: 'interop', ключ: 'значение', 日本語: 'テキスト', é: 'accent' };

const suites = [...SUITES.values()];
const frameLengths = [512, 4096];
const sizes = (fl: number) => [0, 1, fl - 1, fl, fl + 1];

function policyFor(commitment: boolean): { ours: OurPolicy; sdk: ReturnType<typeof buildClient> } {
  return commitment
    ? { ours: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT', sdk: sdkCommitting }
    : { ours: 'FORBID_ENCRYPT_ALLOW_DECRYPT', sdk: sdkLegacy };
}

describe('interop with @aws-crypto/client-node, raw AES', () => {
  for (const suite of suites) {
    for (const fl of frameLengths) {
      it(`suite ${suite.name}, frame ${fl}: SDK → envelope and envelope → SDK`, async () => {
        const { ours: ourPolicy, sdk } = policyFor(suite.commitment);
        for (const n of sizes(fl)) {
          const pt = pattern(n);
          const fromSdk = await sdk.encrypt(n % 2 ? sdkAes : sdkAesLegacy, pt, {
            suiteId: suite.id as AlgorithmSuiteIdentifier,
            frameLength: fl,
            encryptionContext: context,
          });
          const a = await decrypt(fromSdk.result, {
            keyring: ours.aes,
            commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT',
            encryptionContext: context,
          });
          expect(Buffer.from(a.plaintext).equals(pt), `SDK→ours ${n} bytes`).toBe(true);

          const fromOurs = await encrypt(pt, {
            keyring: ours.aes,
            suite: suite.id,
            frameLength: fl,
            encryptionContext: context,
            commitmentPolicy: ourPolicy,
          });
          const b = await sdkAllow.decrypt(sdkAes, fromOurs.ciphertext).catch((e: Error) => {
            throw new Error(`ours→SDK ${n} bytes: ${e.message}`);
          });
          expect(b.plaintext.equals(pt), `ours→SDK ${n} bytes`).toBe(true);
          for (const [k, v] of Object.entries(context)) expect(b.messageHeader.encryptionContext[k]).toBe(v);
        }
      });
    }
  }

  it('1 MiB both ways, 0x0478 and 0x0578, frame 65536', async () => {
    const pt = randomBytes(1024 * 1024);
    for (const suiteId of [0x0478, 0x0578]) {
      const fromSdk = await sdkCommitting.encrypt(sdkAes, pt, { suiteId: suiteId as AlgorithmSuiteIdentifier, frameLength: 65536 });
      expect(Buffer.from((await decrypt(fromSdk.result, { keyring: ours.aes })).plaintext).equals(pt)).toBe(true);
      const fromOurs = await encrypt(pt, { keyring: ours.aes, suite: suiteId, frameLength: 65536 });
      expect((await sdkCommitting.decrypt(sdkAes, fromOurs.ciphertext)).plaintext.equals(pt)).toBe(true);
    }
  });

  it('our default (0x0578, frame 4096) decrypts in the SDK', async () => {
    const pt = pattern(10_000);
    const { ciphertext } = await encrypt(pt, { keyring: ours.aes, encryptionContext: context });
    const r = await sdkCommitting.decrypt(sdkAes, ciphertext);
    expect(r.plaintext.equals(pt)).toBe(true);
    expect(r.messageHeader.suiteId).toBe(0x0578);
  });

  it('SDK streaming output decrypts with our stream API', async () => {
    const { Readable } = await import('node:stream');
    const { decryptStream } = await import('@envelope/core');
    const pt = pattern(200_000);
    const fromSdk = await sdkCommitting.encrypt(sdkAes, pt, { suiteId: 0x0478 as AlgorithmSuiteIdentifier, frameLength: 1000 });
    const parts: Buffer[] = [];
    for await (const c of Readable.from([fromSdk.result]).pipe(decryptStream({ keyring: ours.aes }))) parts.push(c as Buffer);
    expect(Buffer.concat(parts).equals(pt)).toBe(true);
  });
});

describe('interop with @aws-crypto/client-node, raw RSA (OAEP-SHA256)', () => {
  for (const suiteId of [0x0478, 0x0578, 0x0178, 0x0378]) {
    it(`suite ${suiteId.toString(16)} both ways`, async () => {
      const commitment = SUITES.get(suiteId)!.commitment;
      const { ours: ourPolicy, sdk } = policyFor(commitment);
      const pt = pattern(5000);
      const fromSdk = await sdk.encrypt(sdkRsa, pt, { suiteId: suiteId as AlgorithmSuiteIdentifier, encryptionContext: context });
      const a = await decrypt(fromSdk.result, { keyring: oursRsa, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' });
      expect(Buffer.from(a.plaintext).equals(pt)).toBe(true);
      const fromOurs = await encrypt(pt, { keyring: oursRsa, suite: suiteId, encryptionContext: context, commitmentPolicy: ourPolicy });
      expect((await sdkAllow.decrypt(sdkRsa, fromOurs.ciphertext)).plaintext.equals(pt)).toBe(true);
    });
  }
});

describe('rewrapped messages interoperate with @aws-crypto/client-node', () => {
  it('header-only (0x0478) and re-encrypted (0x0578) rewraps decrypt in the SDK; SDK messages rewrap', async () => {
    const { rewrap } = await import('@envelope/core');
    const newKey = randomBytes(32);
    const oursNew = new RawAesKeyring({ keyNamespace: 'interop', keyName: 'aes-new', wrappingKey: Buffer.from(newKey) });
    const sdkNew = new RawAesKeyringNode({
      keyNamespace: 'interop',
      keyName: 'aes-new',
      unencryptedMasterKey: new Uint8Array(newKey),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      utf8Sorting: true,
    });
    const pt = pattern(300_000);
    for (const suiteId of [0x0478, 0x0578]) {
      // Written by the SDK, rewrapped by us (replace), read by the SDK with the new key only.
      const fromSdk = await sdkCommitting.encrypt(sdkAesLegacy, pt, {
        suiteId: suiteId as AlgorithmSuiteIdentifier,
        encryptionContext: { a: 'b' },
      });
      const r = await rewrap(fromSdk.result, { from: ours.aes, to: oursNew, mode: 'replace' });
      expect(r.method).toBe(suiteId === 0x0478 ? 'header-only' : 're-encrypted');
      expect((await sdkCommitting.decrypt(sdkNew, r.message)).plaintext.equals(pt)).toBe(true);
      // add mode: both keys open it in the SDK.
      const both = await rewrap(fromSdk.result, { from: ours.aes, to: oursNew, mode: 'add' });
      expect((await sdkCommitting.decrypt(sdkAes, both.message)).plaintext.equals(pt)).toBe(true);
      expect((await sdkCommitting.decrypt(sdkNew, both.message)).plaintext.equals(pt)).toBe(true);
    }
  });
});
