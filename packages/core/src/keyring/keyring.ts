/** The keyring contract (spec: framework/keyring-interface.md#interface). */
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';

/** Options every keyring call accepts. */
export interface KeyringCallOptions {
  /** Aborts any network call the keyring makes. */
  signal?: AbortSignal | undefined;
}

/**
 * Wraps and unwraps data keys.
 *
 * - `onEncrypt`: if the materials have no data key, generate one (or fail if this keyring
 *   cannot generate); then add one or more encrypted data keys. Returns the same materials.
 * - `onDecrypt`: if the materials already have a data key, return them unchanged. Otherwise try
 *   the EDKs this keyring owns; set the data key from the first that unwraps. EDKs that are not
 *   this keyring's are skipped silently ("not mine" is not an error). Throws only when some of
 *   its own EDKs failed and none succeeded, listing each cause.
 */
export interface Keyring {
  onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials>;
  onDecrypt(
    materials: DecryptionMaterials,
    encryptedDataKeys: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials>;
}
