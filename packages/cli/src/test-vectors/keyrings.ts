/** Builds keyrings and materials managers from key descriptions and a keys manifest. */
import { DefaultMaterialsManager, MultiKeyring, RequiredEncryptionContextMaterialsManager, type Keyring, type MaterialsManager } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring, pkcs1DecryptAvailable, type RsaPadding } from '@envelope/keyring-local';
import type { KeyDescription, KeySpec } from './manifest.js';

/** Why a test cannot run here (it is then counted as skipped, with this reason). */
export class SkipTest extends Error {}

export function buildMaterialsManager(d: KeyDescription, keys: Map<string, KeySpec>): MaterialsManager {
  if (d.type === 'required-encryption-context-cmm') {
    return new RequiredEncryptionContextMaterialsManager({ underlying: buildMaterialsManager(d.underlying, keys), requiredEncryptionContextKeys: d.requiredKeys });
  }
  return new DefaultMaterialsManager(buildKeyring(d, keys));
}

function buildKeyring(d: KeyDescription, keys: Map<string, KeySpec>): Keyring {
  switch (d.type) {
    case 'unsupported':
      throw new SkipTest(d.what.startsWith('aws-kms') ? 'needs AWS KMS' : `keyring type ${d.what} is not supported here`);
    case 'multi-keyring': {
      const generator = d.generator ? buildKeyring(d.generator, keys) : undefined;
      return new MultiKeyring({ generator, children: d.children.map((c) => buildKeyring(c, keys)) });
    }
    case 'required-encryption-context-cmm':
      throw new SkipTest('a required-encryption-context CMM nested inside a keyring');
    case 'raw': {
      const k = keys.get(d.key);
      if (!k) throw new SkipTest(`key ${d.key} is not in the keys manifest`);
      if (k.type === 'aws-kms') throw new SkipTest('needs AWS KMS');
      if (d.encryptionAlgorithm === 'aes') {
        if (k.encoding !== 'base64' || !k.material) throw new SkipTest(`AES key ${d.key} is not base64 material`);
        return new RawAesKeyring({ keyNamespace: d.providerId, keyName: k.keyId, wrappingKey: Buffer.from(k.material, 'base64') });
      }
      const padding: RsaPadding =
        d.paddingAlgorithm === 'pkcs1' ? 'pkcs1' : (`oaep-${d.paddingHash ?? 'sha1'}` as RsaPadding);
      if (padding === 'pkcs1' && !pkcs1DecryptAvailable()) {
        throw new SkipTest('RSA PKCS#1 v1.5 decryption needs node --security-revert=CVE-2023-46809');
      }
      if (!k.material) throw new SkipTest(`RSA key ${d.key} has no material`);
      const isPrivate = k.type === 'private';
      return new RawRsaKeyring({
        keyNamespace: d.providerId,
        keyName: k.keyId,
        ...(isPrivate ? { privateKey: k.material, publicKey: k.material } : { publicKey: k.material }),
        padding,
        allowPkcs1Decrypt: padding === 'pkcs1',
      });
    }
  }
}
