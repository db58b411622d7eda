// Shared setup for the benchmarks: the same key for ours and the SDK, the raw floor.
import { createCipheriv, randomBytes } from 'node:crypto';
import { encrypt, decrypt, encryptStream, decryptStream } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';

export const KEY = Buffer.alloc(32, 42);
export const ours = new RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes', wrappingKey: Buffer.from(KEY) });
export const sdkKeyring = new RawAesKeyringNode({
  keyNamespace: 'bench',
  keyName: 'aes',
  unencryptedMasterKey: new Uint8Array(KEY),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
export const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

export const impls = {
  ours: {
    encrypt: async (pt, suite, frameLength) => (await encrypt(pt, { keyring: ours, suite, frameLength })).ciphertext,
    decrypt: async (ct) => (await decrypt(ct, { keyring: ours })).plaintext,
  },
  sdk: {
    encrypt: async (pt, suite, frameLength) => (await sdk.encrypt(sdkKeyring, pt, { suiteId: suite, frameLength })).result,
    decrypt: async (ct) => (await sdk.decrypt(sdkKeyring, ct)).plaintext,
  },
};

/** The raw floor: AES-256-GCM, a new cipher per frame, into a preallocated output, no format. */
export function rawEncrypt(pt, frameLength) {
  const key = randomBytes(32);
  const iv = Buffer.alloc(12);
  const aad = Buffer.alloc(64);
  const frames = Math.max(1, Math.ceil(pt.length / frameLength));
  const out = Buffer.allocUnsafe(pt.length + frames * 16);
  let o = 0;
  for (let p = 0; p < pt.length || p === 0; p += frameLength) {
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    const x = c.update(pt.subarray(p, p + frameLength));
    out.set(x, o);
    o += x.length;
    c.final();
    out.set(c.getAuthTag(), o);
    o += 16;
    if (pt.length === 0) break;
  }
  return out;
}

export { encryptStream, decryptStream, randomBytes };
export const MiB = 1024 * 1024;
