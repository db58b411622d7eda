/** 15.10 through configuration: `allowSmallKeyDecrypt` on raw-rsa (the CLI's --keyring takes the same JSON). */
import { describe, expect, it } from 'vitest';
import { constants, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { DecryptionMaterials, EncryptionMaterials, getSuite } from '@envelope/core';
import { buildKeyring } from '../src/index.js';

const small = generateKeyPairSync('rsa', {
  modulusLength: 1024,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const config = { type: 'raw-rsa', namespace: 'cfg', name: 'old', privateKey: small.privateKey, padding: 'oaep-sha256' };

describe('15.10: raw-rsa configuration and keys under 2048 bits', () => {
  it('15.10: a 1024-bit key is refused unless allowSmallKeyDecrypt; with it, it decrypts and does not wrap', async () => {
    await expect(buildKeyring(config)).rejects.toThrow(/1024-bit RSA key is too small/);
    await expect(buildKeyring({ ...config, allowSmallKeyDecrypt: 'yes' })).rejects.toThrow(/allowSmallKeyDecrypt/);
    const k = await buildKeyring({ ...config, allowSmallKeyDecrypt: true });
    const suite = getSuite(0x0478);
    const dataKey = randomBytes(32);
    const ciphertext = publicEncrypt({ key: small.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dataKey);
    const d = await k.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: {} }), [
      { providerId: 'cfg', providerInfo: Buffer.from('old'), ciphertext },
    ]);
    expect(Buffer.from(d.getDataKey()).equals(dataKey)).toBe(true);
    await expect(k.onEncrypt(new EncryptionMaterials({ suite, encryptionContext: {} }))).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
  });
});
