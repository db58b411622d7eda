/** How the CLI names an encrypted data key's wrapping key, for display and filters. */
import { providerInfoText, type EncryptedDataKey } from '@envelope/core';

/** A raw AES EDK's key name: provider info = name ‖ 00000080 ‖ 0000000c ‖ 12-byte IV. */
function rawAesKeyName(info: Uint8Array): string | undefined {
  const n = info.byteLength - 20;
  if (n <= 0) return undefined;
  const b = Buffer.from(info.buffer, info.byteOffset, info.byteLength);
  if (b.readUInt32BE(n) !== 128 || b.readUInt32BE(n + 4) !== 12) return undefined;
  const name = b.subarray(0, n).toString('utf8');
  return Buffer.from(name, 'utf8').equals(b.subarray(0, n)) ? name : undefined;
}

/** The key an EDK names: a KMS ARN, a raw key name, or hex. */
export function edkKeyName(edk: EncryptedDataKey): string {
  return rawAesKeyName(edk.providerInfo) ?? providerInfoText(edk);
}

/** The region of a KMS key ARN (arn:partition:kms:region:account:key/id), if it is one. */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && parts[2] === 'kms' && parts.length >= 6 ? parts[3] : undefined;
}
