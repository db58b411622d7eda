/** Shared by the test-vectors tests: keys, keys manifests v1–v3, and a folder of ciphertexts made by our own encrypt. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { MultiKeyring, RequiredEncryptionContextMaterialsManager, encrypt } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';

export const aesKey = randomBytes(32);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPrivate = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
export const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'aes-key-id', wrappingKey: aesKey });
export const rsaKeyring = new RawRsaKeyring({
  keyNamespace: 'ns-rsa',
  keyName: 'rsa-private',
  publicKey: rsaPublic,
  privateKey: rsaPrivate,
  padding: 'oaep-sha256',
});

export const keysJson = (version: number) => ({
  manifest: { type: 'keys', version },
  keys: {
    aes: {
      'key-id': 'aes-key-id',
      type: 'symmetric',
      algorithm: 'aes',
      bits: 256,
      encoding: 'base64',
      material: aesKey.toString('base64'),
      encrypt: true,
      decrypt: true,
    },
    'rsa-private': { type: 'private', algorithm: 'rsa', bits: 2048, encoding: 'pem', material: rsaPrivate, encrypt: true, decrypt: true },
    'rsa-public': { type: 'public', algorithm: 'rsa', bits: 2048, encoding: 'pem', material: rsaPublic, encrypt: true, decrypt: false },
    kms: { type: 'aws-kms', 'key-id': 'arn:aws:kms:us-west-2:111122223333:key/x', encrypt: true, decrypt: true },
  },
});

/** A folder with ciphertexts made by our own encrypt, keys manifests v1–v3, and plaintext `pt`. */
export async function fixture(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tv-'));
  const pt = randomBytes(3000);
  const put = (name: string, bytes: Uint8Array) => writeFile(path.join(dir, name), bytes);
  await put('pt', pt);
  await put('ct', (await encrypt(pt, { keyring: aes, suite: 0x0478, encryptionContext: { a: '1' }, frameLength: 512 })).ciphertext);
  await put('ct-v1', (await encrypt(pt, { keyring: aes, suite: 0x0178, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })).ciphertext);
  await put('ct-signed', (await encrypt(pt, { keyring: aes, suite: 0x0578 })).ciphertext);
  const rec = new RequiredEncryptionContextMaterialsManager({ underlying: aes, requiredEncryptionContextKeys: ['a'] });
  await put('ct-rec', (await encrypt(pt, { materialsManager: rec, suite: 0x0478, encryptionContext: { a: '1', b: '2' } })).ciphertext);
  await put('ct-rsa', (await encrypt(pt, { keyring: new MultiKeyring({ generator: rsaKeyring }), suite: 0x0478 })).ciphertext);
  const bad = Buffer.from((await encrypt(pt, { keyring: aes, suite: 0x0478 })).ciphertext);
  bad[bad.length - 20]! ^= 1;
  await put('ct-bad', bad);
  for (const v of [2, 3]) await writeFile(path.join(dir, `keys-v${v}.json`), JSON.stringify(keysJson(v)));
  // v1: material as a list of lines joined by line-separator; no key-id (the name is the key id).
  const v1 = keysJson(1) as { keys: Record<string, Record<string, unknown>> };
  v1.keys['aes-key-id'] = { ...v1.keys.aes, material: [aesKey.toString('base64')] };
  delete v1.keys['aes-key-id']!['key-id'];
  v1.keys['rsa-private'] = { ...v1.keys['rsa-private'], material: rsaPrivate.trim().split('\n'), 'line-separator': '\n' };
  await writeFile(path.join(dir, 'keys-v1.json'), JSON.stringify(v1));
  return dir;
}

export const rawAes = { type: 'raw', key: 'aes', 'provider-id': 'ns', 'encryption-algorithm': 'aes' };
export const rawRsa = {
  type: 'raw',
  key: 'rsa-private',
  'provider-id': 'ns-rsa',
  'encryption-algorithm': 'rsa',
  'padding-algorithm': 'oaep-mgf1',
  'padding-hash': 'sha256',
};
export const decoy = { ...rawRsa, key: 'rsa-public', 'padding-hash': 'sha1' };
export const ok = { output: { plaintext: 'file://pt' } };
export const mustFail = { error: { 'error-description': 'bit flip' } };

export async function write(dir: string, name: string, m: unknown): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, JSON.stringify(m));
  return f;
}
export const decryptManifest = (version: number, tests: Record<string, unknown>, keys = 'file://keys-v3.json') => ({
  manifest: { type: 'awses-decrypt', version },
  client: { name: 'test', version: '1' },
  keys,
  tests,
});
