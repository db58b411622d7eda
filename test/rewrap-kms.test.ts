/**
 * KMS rotation and rewrap on kms-local: messages written before RotateKeyOnDemand keep
 * decrypting; a rewrap moves them onto a new key (header-only for unsigned suites).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { decrypt, encrypt, rewrap } from '@envelope/core';
import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';

let kms: KmsLocal;
let admin: KMSClient;
let clients: ReturnType<typeof kmsClientSupplier>;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
  admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
  clients = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials });
});
afterAll(() => kms.close());

describe('rotation and rewrap with KMS keys', () => {
  for (const suite of [0x0478, 0x0578]) {
    it(`suite 0x0${suite.toString(16)}: rotated key still decrypts old messages; rewrap moves them to a new key`, async () => {
      const oldKey = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      const newKey = (
        await new KMSClient({ region: 'eu-west-1', endpoint: kms.url, credentials: kms.credentials }).send(new CreateKeyCommand({}))
      ).KeyMetadata!.Arn!;
      const from = new KmsKeyring({ clientSupplier: clients, generatorKeyId: oldKey });
      const to = new KmsKeyring({ clientSupplier: clients, generatorKeyId: newKey });
      const pt = Buffer.from(`rotate me ${suite}`);
      const { ciphertext } = await encrypt(pt, { keyring: from, suite, encryptionContext: { app: 'rot' } });
      await admin.send(new RotateKeyOnDemandCommand({ KeyId: oldKey }));
      expect(Buffer.from((await decrypt(ciphertext, { keyring: from })).plaintext).equals(pt)).toBe(true);

      kms.resetStats();
      const r = await rewrap(ciphertext, { from, to, mode: 'replace' });
      expect(r.method).toBe(suite === 0x0478 ? 'header-only' : 're-encrypted');
      expect(r.messageInfo.encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString())).toEqual([newKey]);
      // One Decrypt with the old key, one Encrypt (or GenerateDataKey for a re-encryption) with the new.
      expect(kms.stats()['us-east-1']).toEqual({ Decrypt: 1 });
      expect(Object.keys(kms.stats()['eu-west-1'] ?? {})).toEqual([suite === 0x0478 ? 'Encrypt' : 'GenerateDataKey']);
      const out = await decrypt(r.message, { keyring: to });
      expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
      expect(out.encryptionContext.app).toBe('rot');
      await expect(decrypt(r.message, { keyring: new KmsKeyring({ clientSupplier: clients, keyIds: [oldKey] }) })).rejects.toMatchObject({
        code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
      });
    });
  }
});
