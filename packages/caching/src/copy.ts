/** Fresh materials carrying a copy of a cached data key (encrypt/decrypt zeroize what they get). */
import { DecryptionMaterials, EncryptionMaterials } from '@envelope/core';

export function copyEncryptionMaterials(m: EncryptionMaterials): EncryptionMaterials {
  const c = new EncryptionMaterials({
    suite: m.suite,
    encryptionContext: m.encryptionContext,
    requiredEncryptionContextKeys: m.requiredEncryptionContextKeys,
    signingKey: m.signingKey,
  });
  const dk = m.getDataKey();
  try {
    c.setDataKey(dk);
  } finally {
    dk.fill(0);
  }
  for (const e of m.encryptedDataKeys) c.addEncryptedDataKey(e);
  for (const w of m.warnings) c.addWarning(w);
  return c;
}

export function copyDecryptionMaterials(m: DecryptionMaterials): DecryptionMaterials {
  const c = new DecryptionMaterials({
    suite: m.suite,
    encryptionContext: m.encryptionContext,
    requiredEncryptionContextKeys: m.requiredEncryptionContextKeys,
    verificationKey: m.verificationKey,
  });
  const dk = m.getDataKey();
  try {
    c.setDataKey(dk);
  } finally {
    dk.fill(0);
  }
  return c;
}
