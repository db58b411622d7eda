/**
 * Materials cloning. `encrypt`/`decrypt` zeroize the materials they receive once the message key
 * is derived, so the cache never hands out its own: every use gets fresh materials with a copy of
 * the data key, and the cached original is zeroized only when its entry leaves the cache.
 *
 * What is shared rather than copied: the suite, the (frozen) encryption context, the frozen EDK
 * records and the signing/verification `KeyObject`s; none of them is secret-and-wiped by the
 * message code, and all are immutable.
 */
import { DecryptionMaterials, EncryptionMaterials } from '@envelope/core';

/** Fresh encryption materials with a copy of `m`'s data key, EDKs and warnings. */
export function copyEncryptionMaterials(m: EncryptionMaterials): EncryptionMaterials {
  const c = new EncryptionMaterials({
    suite: m.suite,
    encryptionContext: m.encryptionContext,
    requiredEncryptionContextKeys: m.requiredEncryptionContextKeys,
    signingKey: m.signingKey,
  });
  copyDataKey(m, c);
  for (const e of m.encryptedDataKeys) c.addEncryptedDataKey(e);
  for (const w of m.warnings) c.addWarning(w);
  return c;
}

/** Fresh decryption materials with a copy of `m`'s data key. */
export function copyDecryptionMaterials(m: DecryptionMaterials): DecryptionMaterials {
  const c = new DecryptionMaterials({
    suite: m.suite,
    encryptionContext: m.encryptionContext,
    requiredEncryptionContextKeys: m.requiredEncryptionContextKeys,
    verificationKey: m.verificationKey,
  });
  copyDataKey(m, c);
  return c;
}

/** Sets `to`'s data key from `from`'s; the intermediate copy is wiped (setDataKey keeps its own). */
function copyDataKey<M extends EncryptionMaterials | DecryptionMaterials>(from: M, to: M): void {
  const dk = from.getDataKey();
  try {
    to.setDataKey(dk);
  } finally {
    dk.fill(0);
  }
}
