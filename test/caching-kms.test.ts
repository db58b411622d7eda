/**
 * The caching manager against kms-local: KMS calls counted by kms-local's own stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { encrypt } from '@envelope/core';
import { CachingMaterialsManager } from '@envelope/caching';
import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';

let kms: KmsLocal;
let keyring: KmsKeyring;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1'], port: 0 });
  const arn = (await new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials }).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  keyring = new KmsKeyring({ clientSupplier: kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials }), generatorKeyId: arn });
});
afterAll(() => kms.close());

describe('caching against kms-local', () => {
  it('1,000 concurrent encrypts with a cold cache make one GenerateDataKey', async () => {
    const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 60_000 });
    kms.resetStats();
    await Promise.all(Array.from({ length: 1000 }, () => encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 })));
    expect(kms.stats()).toEqual({ 'us-east-1': { GenerateDataKey: 1 } });
  });

  it('100,000 encrypts with max messages 1,000 make 100 GenerateDataKey calls', async () => {
    const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 600_000, maxMessagesEncrypted: 1000 });
    kms.resetStats();
    const t0 = performance.now();
    const pt = Buffer.from('small');
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(Array.from({ length: 1000 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    }
    console.log(`100,000 cached encrypts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(kms.stats()).toEqual({ 'us-east-1': { GenerateDataKey: 100 } });
    expect(cmm.metrics()).toMatchObject({ keyringCalls: 100 });
  }, 120_000);
});
