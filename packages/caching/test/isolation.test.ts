import { describe, expect, it } from 'vitest';
import { encrypt, getSuite } from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache } from '../src/index.js';
import { CountingKeyring, decRequest, encRequest } from './helpers/counting-keyring.js';

const pt = Buffer.alloc(100, 1);

describe('isolation', () => {
  it('partitions: two managers on one cache never share a data key; equal partitions do', async () => {
    const cache = new LruMaterialsCache({ capacity: 10 });
    const k = new CountingKeyring();
    const a = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, partition: 'a' });
    const b = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, partition: 'b' });
    const a2 = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, partition: 'a' });
    const ka = Buffer.from((await a.getEncryptionMaterials(encRequest())).getDataKey());
    const kb = Buffer.from((await b.getEncryptionMaterials(encRequest())).getDataKey());
    expect(k.encrypts).toBe(2);
    expect(ka.equals(kb)).toBe(false);
    expect(cache.size).toBe(2);
    const ka2 = Buffer.from((await a2.getEncryptionMaterials(encRequest())).getDataKey());
    expect(k.encrypts).toBe(2);
    expect(ka2.equals(ka)).toBe(true);
  });

  it('default partitions are random per manager', async () => {
    const cache = new LruMaterialsCache({ capacity: 10 });
    const k = new CountingKeyring();
    const a = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000 });
    const b = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000 });
    expect(a.partition).not.toBe(b.partition);
    await a.getEncryptionMaterials(encRequest());
    await b.getEncryptionMaterials(encRequest());
    expect(k.encrypts).toBe(2);
  });

  it('a manager counts only its own entries, even on a shared cache', async () => {
    const cache = new LruMaterialsCache({ capacity: 1 });
    const k = new CountingKeyring();
    const a = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000 });
    const b = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000 });
    await a.getEncryptionMaterials(encRequest());
    await b.getEncryptionMaterials(encRequest()); // evicts a's entry
    expect(a.metrics().evictions).toBe(1);
    expect(b.metrics().evictions).toBe(0);
  });

  it('context: a different context, suite, policy or required-key set misses', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const keys = new Set<string>();
    const get = async (o: Record<string, unknown>): Promise<void> => {
      keys.add(Buffer.from((await cmm.getEncryptionMaterials(encRequest(10, o))).getDataKey()).toString('hex'));
    };
    await get({ encryptionContext: { t: '1' } });
    await get({ encryptionContext: { t: '2' } });
    await get({ encryptionContext: { t: '1', u: '' } });
    await get({ encryptionContext: { t: '1' }, suite: getSuite(0x0578) });
    await get({ encryptionContext: { t: '1' }, suite: undefined });
    await get({ encryptionContext: { t: '1' }, suite: getSuite(0x0178), commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' });
    await get({ encryptionContext: { t: '1' }, requiredEncryptionContextKeys: ['t'] });
    expect(k.encrypts).toBe(7);
    expect(keys.size).toBe(7);
    await get({ encryptionContext: { t: '1' } });
    expect(k.encrypts).toBe(7);
  });

  it('materials carry the context of their own request (end to end: the header says so)', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    for (const t of ['a', 'b', 'a', 'b']) {
      const m = await cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { t } }));
      expect(m.encryptionContext).toEqual({ t });
    }
    const { ciphertext } = await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t: 'b' } });
    expect(Buffer.from(ciphertext).includes(Buffer.from('b'))).toBe(true);
  });

  it('decrypt: different EDKs, context or reproduced context miss', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    await cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { t: '1' } }));
    await cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { t: '2' } }));
    const [m1, m2] = k.encrypted;
    await cmm.decryptMaterials(decRequest(m1!));
    await cmm.decryptMaterials(decRequest(m1!));
    expect(k.decrypts).toBe(1);
    await cmm.decryptMaterials(decRequest(m2!));
    expect(k.decrypts).toBe(2);
    await cmm.decryptMaterials(decRequest(m1!, { reproducedEncryptionContext: { t: '1' } }));
    expect(k.decrypts).toBe(3);
    // A mismatching reproduced context is refused by the underlying manager, and not cached.
    await expect(cmm.decryptMaterials(decRequest(m1!, { reproducedEncryptionContext: { t: '2' } }))).rejects.toMatchObject({
      code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH',
    });
    await expect(cmm.decryptMaterials(decRequest(m1!, { reproducedEncryptionContext: { t: '2' } }))).rejects.toMatchObject({
      code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH',
    });
    // Same EDKs with another context: the cache does not answer for it.
    await expect(cmm.decryptMaterials(decRequest(m1!, { encryptionContext: { t: '2' } }))).rejects.toThrow();
  });
});
