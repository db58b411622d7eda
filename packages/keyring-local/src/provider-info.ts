/**
 * Raw AES key provider information
 * (spec: framework/raw-aes-keyring.md#key-provider-information), big-endian:
 *
 * | key name (UTF-8) | tag length in bits (u32) | IV length in bytes (u32) | IV |
 *
 * The key name has no length prefix: a reader must know it (the keyring does) or assume the
 * trailing fields' sizes (see {@link parseRawAesProviderInfo}).
 */

/** The AES-GCM tag length every raw AES wrapping algorithm uses, in bytes. */
export const RAW_AES_TAG_LENGTH = 16;
/** The AES-GCM IV length every raw AES wrapping algorithm uses, in bytes. */
export const RAW_AES_IV_LENGTH = 12;

/** The fields of a raw AES EDK's provider info. Views into the input, not copies. */
export interface RawAesProviderInfo {
  /** The key name as UTF-8 bytes. */
  readonly keyName: Uint8Array;
  /** Tag length in bits, as written (128 for every supported algorithm). */
  readonly tagLengthBits: number;
  /** IV length in bytes, as written (12 for every supported algorithm). */
  readonly ivLength: number;
  /** The AES-GCM IV the data key was wrapped with. */
  readonly iv: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Serializes raw AES provider info.
 *
 * @param keyName - The key name, as a string or its UTF-8 bytes.
 * @param iv - The IV used to wrap the data key (its length is written as the IV length).
 * @param tagLengthBits - Defaults to 128, the only tag length the spec defines.
 *
 * @example
 * ```ts
 * const info = serializeRawAesProviderInfo('key-1', iv);
 * // 'key-1' ‖ 00 00 00 80 ‖ 00 00 00 0c ‖ iv
 * ```
 */
export function serializeRawAesProviderInfo(
  keyName: string | Uint8Array,
  iv: Uint8Array,
  tagLengthBits = RAW_AES_TAG_LENGTH * 8,
): Uint8Array {
  const name = typeof keyName === 'string' ? encoder.encode(keyName) : keyName;
  const out = new Uint8Array(name.byteLength + 8 + iv.byteLength);
  const view = new DataView(out.buffer);
  out.set(name, 0);
  view.setUint32(name.byteLength, tagLengthBits, false);
  view.setUint32(name.byteLength + 4, iv.byteLength, false);
  out.set(iv, name.byteLength + 8);
  return out;
}

/**
 * Parses raw AES provider info from untrusted bytes. Bounds-checked: returns `undefined` (never
 * throws, never reads past the end) when the bytes cannot be raw AES provider info whose key
 * name is `keyNameByteLength` bytes long — too short, or an IV length that disagrees with the
 * total length (typically another key whose name starts with the same bytes).
 *
 * @param keyNameByteLength - The UTF-8 length of the expected key name. When omitted, the name
 *   length is inferred by assuming a 12-byte IV (every supported algorithm), which is what a
 *   tool that does not know the name (e.g. `inspect`) can do.
 *
 * @example
 * ```ts
 * const parsed = parseRawAesProviderInfo(edk.providerInfo, Buffer.byteLength('key-1'));
 * if (parsed && parsed.tagLengthBits === 128 && parsed.ivLength === 12) use(parsed.iv);
 * ```
 */
export function parseRawAesProviderInfo(info: Uint8Array, keyNameByteLength?: number): RawAesProviderInfo | undefined {
  const n = keyNameByteLength ?? info.byteLength - 8 - RAW_AES_IV_LENGTH;
  if (!Number.isSafeInteger(n) || n < 0 || info.byteLength < n + 8) return undefined;
  const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const tagLengthBits = view.getUint32(n, false);
  const ivLength = view.getUint32(n + 4, false);
  if (info.byteLength - n - 8 !== ivLength) return undefined;
  return { keyName: info.subarray(0, n), tagLengthBits, ivLength, iv: info.subarray(n + 8) };
}
