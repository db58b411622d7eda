/**
 * The caching manager against kms-local, through the real KMS keyring and @aws-sdk/client-kms:
 * KMS calls are counted by kms-local's own stats, not by our metrics.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { decrypt, encrypt, type EnvelopeError } from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache } from '@envelope/caching';
import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';

const REGION = 'us-east-1';
let kms: KmsLocal;
let keyring: KmsKeyring;

beforeAll(async () => {
  kms = await startKmsLocal({ regions: [REGION], port: 0 });
  const client = new KMSClient({ region: REGION, endpoint: kms.url, credentials: kms.credentials });
  const arn = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  client.destroy();
  // No retries: a fault must reach the cache as one failed call, not be papered over.
  keyring = new KmsKeyring({
    clientSupplier: kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials }),
    generatorKeyId: arn,
    maxRetries: 0,
  });
});
afterAll(() => kms?.close());
beforeEach(() => kms.reset());

describe('caching against kms-local', () => {
  it('1,000 concurrent encrypts with a cold cache make one GenerateDataKey; 1,000 concurrent decrypts make one Decrypt', async () => {
    const cmm = new CachingMaterialsManager({ underlying: keyring, cache: new LruMaterialsCache({ capacity: 100 }), maxAgeMs: 60_000 });
    const pt = Buffer.from('x');
    const cts = await Promise.all(
      Array.from({ length: 1000 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { app: 'caching-kms' } })),
    );
    expect(kms.stats()).toEqual({ [REGION]: { GenerateDataKey: 1 } });
    const pts = await Promise.all(cts.map((c) => decrypt(c.ciphertext, { materialsManager: cmm })));
    expect(pts.every((p) => Buffer.from(p.plaintext).equals(pt))).toBe(true);
    expect(kms.stats()).toEqual({ [REGION]: { GenerateDataKey: 1, Decrypt: 1 } });
    expect(cmm.metrics()).toMatchObject({ keyringCalls: 2, misses: 2000, coalesced: 1998 });
  });

  it('100,000 encrypts of small messages with maxMessagesEncrypted 1,000 make exactly 100 GenerateDataKey calls', async () => {
    const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 600_000, maxMessagesEncrypted: 1000 });
    const pt = Buffer.from('small');
    // 100 rounds of 1,000 concurrent encrypts: each round drains one data key exactly.
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 1000 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    }
    expect(kms.stats()).toEqual({ [REGION]: { GenerateDataKey: 100 } });
    expect(cmm.metrics()).toMatchObject({ keyringCalls: 100, exhaustions: 0 });
  }, 180_000);

  it('the same 100,000 one at a time: still exactly 100', async () => {
    const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 600_000, maxMessagesEncrypted: 1000 });
    const req = { encryptionContext: {}, commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' as const, plaintextLength: 5 };
    for (let i = 0; i < 100_000; i++) (await cmm.getEncryptionMaterials(req)).zeroize();
    expect(kms.stats()).toEqual({ [REGION]: { GenerateDataKey: 100 } });
  }, 120_000);

  it('a KMS error reaches every waiter of the one call; nothing is cached; the next request calls KMS again', async () => {
    const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 60_000 });
    kms.setFault(REGION, { mode: 'error', errorRate: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 })),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(new Set(results.map((r) => (r as PromiseRejectedResult).reason as EnvelopeError)).size).toBe(1);
    expect(kms.stats()[REGION]!.GenerateDataKey).toBe(1);
    kms.setFault(REGION, { mode: 'none' });
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 });
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 });
    expect(kms.stats()[REGION]!.GenerateDataKey).toBe(2);
  });

  it('partitions on one cache: each partition asks KMS for its own data key', async () => {
    const cache = new LruMaterialsCache({ capacity: 10 });
    const a = new CachingMaterialsManager({ underlying: keyring, cache, maxAgeMs: 60_000, partition: 'a' });
    const b = new CachingMaterialsManager({ underlying: keyring, cache, maxAgeMs: 60_000, partition: 'b' });
    for (let i = 0; i < 10; i++) {
      await encrypt(Buffer.from('x'), { materialsManager: a, suite: 0x0478 });
      await encrypt(Buffer.from('x'), { materialsManager: b, suite: 0x0478 });
    }
    expect(kms.stats()).toEqual({ [REGION]: { GenerateDataKey: 2 } });
  });
});
