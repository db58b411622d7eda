/** Encrypted data keys (spec: framework/structures.md#encrypted-data-key). */
import { fromUtf8 } from '../bytes.js';

/** A data key wrapped by one key-encryption key, as stored in the message header. */
export interface EncryptedDataKey {
  /** Who wrapped it: `aws-kms`, a raw keyring's namespace, a plugin's id. UTF-8, ≤ 65535 bytes. */
  readonly providerId: string;
  /** Provider-specific: the KMS key ARN, or a raw keyring's key name + IV. ≤ 65535 bytes. */
  readonly providerInfo: Uint8Array;
  /** The wrapped data key. ≤ 65535 bytes. */
  readonly ciphertext: Uint8Array;
}

/** The provider info as text when it is UTF-8 (KMS ARNs), otherwise a hex rendering. */
export function providerInfoText(edk: EncryptedDataKey): string {
  try {
    return fromUtf8(edk.providerInfo, 'provider info');
  } catch {
    return Buffer.from(edk.providerInfo).toString('hex');
  }
}
