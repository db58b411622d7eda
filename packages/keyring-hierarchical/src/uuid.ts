/**
 * Branch key versions are UUIDs: a 36-character string in the store (`branch:version:<uuid>`) and
 * 16 bytes in every EDK ciphertext (
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#ciphertext): "Converting the 36
 * characters UUID string into bytes yields 16 bytes").
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a lower-case, hyphenated UUID (the form every key store writes). */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}

/** The 16 bytes of a UUID string; throws a RangeError for anything else. */
export function uuidToBytes(s: string): Uint8Array {
  if (!isUuid(s)) throw new RangeError('not a lower-case UUID');
  return Buffer.from(s.replace(/-/g, ''), 'hex');
}

/** The lower-case hyphenated string of 16 bytes. */
export function uuidFromBytes(b: Uint8Array): string {
  if (b.byteLength !== 16) throw new RangeError('a UUID is 16 bytes');
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
