import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  RAW_AES_IV_LENGTH,
  RAW_AES_TAG_LENGTH,
  RawAesKeyring,
  parseRawAesProviderInfo,
  serializeRawAesProviderInfo,
} from '@envelope/keyring-local';
import { encryptionMaterials, hex } from './helpers.js';

const IV = Uint8Array.from({ length: 12 }, (_, i) => i);

describe('raw AES provider info', () => {
  it('is key name ‖ u32 BE tag bits (128) ‖ u32 BE IV length (12) ‖ IV, byte for byte', () => {
    const info = serializeRawAesProviderInfo('key-1', IV);
    expect(hex(info)).toBe('6b65792d31' + '00000080' + '0000000c' + '000102030405060708090a0b');
  });

  it('writes the key name as UTF-8', () => {
    const info = serializeRawAesProviderInfo('ключ', IV);
    expect(hex(info.subarray(0, 8))).toBe(Buffer.from('ключ', 'utf8').toString('hex'));
    expect(info.byteLength).toBe(8 + 8 + 12);
  });

  it('is what RawAesKeyring writes into each EDK, with ciphertext = wrapped key ‖ 16-byte tag', async () => {
    const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'key-1', wrappingKey: new Uint8Array(32).fill(7) });
    for (const keyLength of [16, 24, 32] as const) {
      const m = await keyring.onEncrypt(encryptionMaterials(keyLength));
      const [edk] = m.encryptedDataKeys;
      expect(edk!.providerId).toBe('ns');
      const info = edk!.providerInfo;
      expect(hex(info.subarray(0, 13))).toBe('6b65792d31' + '00000080' + '0000000c');
      expect(info.byteLength).toBe(5 + 8 + 12);
      expect(edk!.ciphertext.byteLength).toBe(keyLength + RAW_AES_TAG_LENGTH);
      const parsed = parseRawAesProviderInfo(info, 5)!;
      expect(Buffer.from(parsed.keyName).toString()).toBe('key-1');
      expect(parsed.iv.byteLength).toBe(RAW_AES_IV_LENGTH);
    }
  });

  it('parses at a non-zero byteOffset and returns views of the input', () => {
    const info = serializeRawAesProviderInfo('key-1', IV);
    const backing = new Uint8Array(100).fill(0xee);
    backing.set(info, 37);
    const view = backing.subarray(37, 37 + info.byteLength);
    const parsed = parseRawAesProviderInfo(view, 5)!;
    expect(parsed).toMatchObject({ tagLengthBits: 128, ivLength: 12 });
    expect(hex(parsed.keyName)).toBe(hex(Buffer.from('key-1')));
    expect(hex(parsed.iv)).toBe(hex(IV));
    expect(parsed.iv.buffer).toBe(backing.buffer);
  });

  it('infers the key name length from a 12-byte IV when not told it', () => {
    const parsed = parseRawAesProviderInfo(serializeRawAesProviderInfo('some/longer name', IV))!;
    expect(Buffer.from(parsed.keyName).toString()).toBe('some/longer name');
  });

  it('returns undefined for truncated input, inconsistent lengths, or another name length', () => {
    const info = serializeRawAesProviderInfo('key-1', IV);
    expect(parseRawAesProviderInfo(info.subarray(0, 12), 5)).toBeUndefined(); // cut inside the u32 fields
    expect(parseRawAesProviderInfo(info.subarray(0, info.byteLength - 1), 5)).toBeUndefined(); // IV short by one
    expect(parseRawAesProviderInfo(info, 3)).toBeUndefined(); // 'key' is a prefix of 'key-1'
    expect(parseRawAesProviderInfo(info, 6)).toBeUndefined();
    expect(parseRawAesProviderInfo(new Uint8Array(0), 0)).toBeUndefined();
    expect(parseRawAesProviderInfo(new Uint8Array(5))).toBeUndefined();
    expect(parseRawAesProviderInfo(info, -1)).toBeUndefined();
  });

  it('reports other tag and IV lengths as written (the keyring decides what it accepts)', () => {
    const info = serializeRawAesProviderInfo('k', new Uint8Array(16), 96);
    expect(parseRawAesProviderInfo(info, 1)).toMatchObject({ tagLengthBits: 96, ivLength: 16 });
  });

  it('round-trips any name and IV, and never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 32 }), (name, iv) => {
        const n = Buffer.byteLength(name);
        const parsed = parseRawAesProviderInfo(serializeRawAesProviderInfo(name, iv), n)!;
        return parsed.ivLength === iv.byteLength && hex(parsed.iv) === hex(iv) && parsed.tagLengthBits === 128;
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(fc.integer({ min: -2, max: 70 }), { nil: undefined }), (bytes, n) => {
        const parsed = parseRawAesProviderInfo(bytes, n);
        return parsed === undefined || parsed.keyName.byteLength + 8 + parsed.iv.byteLength === bytes.byteLength;
      }),
    );
  });
});
