/**
 * Builds the materials manager a test decrypts with, from its key description and the keys
 * manifest. Raw AES: provider id = `provider-id`, key name = the key's `key-id`, wrapping key =
 * the base64 material. Raw RSA: PEM material; a public-only key cannot decrypt (a decoy in a
 * multi-keyring). Several keyrings = a `MultiKeyring` whose members are all children (decrypt
 * needs no generator).
 */
import {
  DefaultMaterialsManager,
  MultiKeyring,
  RequiredEncryptionContextMaterialsManager,
  type Keyring,
  type MaterialsManager,
} from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring, pkcs1DecryptAvailable } from '@envelope/keyring-local';
import { invalidReasons, unsupportedReasons, usesPkcs1, type KeyDescription } from './key-description.js';
import type { Keys } from './keys-manifest.js';

/** The reason PKCS#1 v1.5 tests are skipped when this process cannot decrypt PKCS#1 v1.5. */
export const PKCS1_SKIP_REASON = 'RSA PKCS#1 v1.5 decryption needs node --security-revert=CVE-2023-46809';

/**
 * Why a test with this description fails before it runs (a key its keys manifest lacks or cannot
 * give), or undefined. Checked before {@link skipReason}: a wrong test is a failure even when it
 * would also be skipped.
 */
export function failReason(d: KeyDescription): string | undefined {
  return invalidReasons(d)[0];
}

/**
 * Why this description cannot run in this process, or undefined when it can: it needs AWS KMS (or
 * another unsupported keyring), or PKCS#1 v1.5 and Node refuses it.
 */
export function skipReason(d: KeyDescription, pkcs1Available: () => boolean = pkcs1DecryptAvailable): string | undefined {
  const reasons = unsupportedReasons(d);
  if (reasons.length > 0) return reasons[0];
  if (usesPkcs1(d) && !pkcs1Available()) return PKCS1_SKIP_REASON;
  return undefined;
}

function keyOf(keys: Keys, name: string) {
  const { key, problem } = keys.lookup(name);
  // The description parser has already checked every reference; this guards programmatic use.
  if (!key?.material) throw new Error(problem ?? `key ${JSON.stringify(name)} has no material`);
  return key;
}

/** A keyring for a keyring description (not a CMM). */
export function buildKeyring(d: KeyDescription, keys: Keys): Keyring {
  switch (d.type) {
    case 'raw-aes': {
      const k = keyOf(keys, d.key);
      return new RawAesKeyring({ keyNamespace: d.providerId, keyName: k.keyId, wrappingKey: Buffer.from(k.material!, 'base64') });
    }
    case 'raw-rsa': {
      const k = keyOf(keys, d.key);
      const pem = k.material!;
      return new RawRsaKeyring({
        keyNamespace: d.providerId,
        keyName: k.keyId,
        publicKey: pem,
        ...(k.type === 'private' ? { privateKey: pem } : {}),
        padding: d.padding,
        allowPkcs1Decrypt: d.padding === 'pkcs1',
        // The runner only decrypts: old vectors may use keys under 2048 bits (it never wraps under them).
        allowSmallKeyDecrypt: true,
      });
    }
    case 'multi-keyring':
      return new MultiKeyring({ children: [...(d.generator ? [d.generator] : []), ...d.children].map((c) => buildKeyring(c, keys)) });
    case 'required-encryption-context-cmm':
      throw new Error('a required-encryption-context CMM cannot sit inside a keyring');
    case 'unsupported':
      throw new Error(`${d.what}: ${d.reason}`);
    case 'invalid':
      throw new Error(d.reason);
  }
}

/** The materials manager for a test: the required-encryption-context CMM, or the default one. */
export function buildMaterialsManager(d: KeyDescription, keys: Keys): MaterialsManager {
  if (d.type === 'required-encryption-context-cmm') {
    const underlying =
      d.underlying.type === 'required-encryption-context-cmm'
        ? buildMaterialsManager(d.underlying, keys)
        : buildKeyring(d.underlying, keys);
    return new RequiredEncryptionContextMaterialsManager({ underlying, requiredEncryptionContextKeys: [...d.requiredKeys] });
  }
  return new DefaultMaterialsManager(buildKeyring(d, keys));
}
