/**
 * The hierarchical keyring on moto_server + kms-local: round trips, multi-tenant branch key
 * selection, single-flight on a cold cache (1,000 concurrent encrypts → one DynamoDB read and one
 * KMS Decrypt), the TTL on a fake clock, rotation, and EDKs that are not this keyring's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptionMaterials, EncryptionMaterials, SUITES, decrypt, encrypt, isEnvelopeError, type EnvelopeError } from '@envelope/core';
import { HierarchicalKeyring, branchKeyIdFromContext, type BranchKeyStore } from '../src/index.js';
import { countingDynamoDb, kmsCalls, startBackends, storeOn, tableName, type Backends } from './helpers.js';

let b: Backends;
let counting: ReturnType<typeof countingDynamoDb>;
let store: BranchKeyStore;
const tenants: Record<string, string> = {};
beforeAll(async () => {
  b = await startBackends(['us-east-1']);
  counting = countingDynamoDb(b.ddbSupplier);
  store = storeOn(b, { tableName: tableName(), kmsKeyArn: (await b.createKmsKey())['us-east-1']!, dynamoDb: counting.supplier });
  await store.createStore();
  for (const t of ['acme', 'globex', 'initech'])
    tenants[t] = (await store.createKey({ branchKeyId: `tenant-${t}`, encryptionContext: { tenant: t } })).branchKeyId;
}, 60_000);
afterAll(() => b?.stop());

const pt = Buffer.from('hierarchical');
const same = (x: Uint8Array) => Buffer.from(x).equals(pt);
function resetCounts() {
  counting.reset();
  b.kms.resetStats();
}
const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isEnvelopeError(e)) throw new Error(`expected an EnvelopeError, got ${String(e)}`);
  return e as EnvelopeError;
};

describe('round trips', () => {
  for (const suite of [0x0578, 0x0478, 0x0178, 0x0014]) {
    it(`suite 0x${suite.toString(16).padStart(4, '0')}`, async () => {
      const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId: tenants.acme!, cacheTtlSeconds: 60 });
      const { ciphertext } = await encrypt(pt, {
        keyring,
        suite,
        encryptionContext: { tenant: 'acme' },
        ...(suite < 0x0400 ? { commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' as const } : {}),
      });
      const fresh = new HierarchicalKeyring({ keyStore: store, branchKeyId: tenants.acme!, cacheTtlSeconds: 60 });
      expect(same((await decrypt(ciphertext, { keyring: fresh, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })).plaintext)).toBe(true);
    });
  }

  it('one keyring for every tenant: the branch key comes from the encryption context', async () => {
    const keyring = new HierarchicalKeyring({
      keyStore: store,
      branchKeyIdSupplier: branchKeyIdFromContext('tenantKey'),
      cacheTtlSeconds: 60,
    });
    for (const [t, id] of Object.entries(tenants)) {
      const { ciphertext } = await encrypt(pt, { keyring, encryptionContext: { tenantKey: id, tenant: t } });
      expect(same((await decrypt(ciphertext, { keyring })).plaintext)).toBe(true);
      // Only that tenant's branch key opens it.
      const other = Object.values(tenants).find((x) => x !== id)!;
      const e = await failure(
        decrypt(ciphertext, { keyring: new HierarchicalKeyring({ keyStore: store, branchKeyId: other, cacheTtlSeconds: 60 }) }),
      );
      expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    }
    const e = await failure(encrypt(pt, { keyring, encryptionContext: { tenant: 'acme' } }));
    expect([e.code, e.message]).toEqual(['ENVELOPE_INVALID_ARGUMENT', expect.stringContaining('encryptionContext.tenantKey')]);
  });

  it('a changed EDK or another context: AuthenticationFailed, naming the branch key and version', async () => {
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId: tenants.globex!, cacheTtlSeconds: 60 });
    const m = await keyring.onEncrypt(new EncryptionMaterials({ suite: SUITES.get(0x0478)!, encryptionContext: { a: 'b' } }));
    const edk = m.encryptedDataKeys[0]!;
    expect([edk.providerId, Buffer.from(edk.providerInfo).toString()]).toEqual(['aws-kms-hierarchy', tenants.globex]);
    const bad = Buffer.from(edk.ciphertext);
    bad[bad.length - 1]! ^= 1;
    for (const [edks, ec] of [
      [[{ ...edk, ciphertext: bad }], { a: 'b' }],
      [[edk], { a: 'c' }],
    ] as const) {
      const e = await failure(keyring.onDecrypt(new DecryptionMaterials({ suite: SUITES.get(0x0478)!, encryptionContext: ec }), edks));
      expect([e.code, e.causes[0]!.reason]).toEqual(['ENVELOPE_NO_DECRYPTABLE_KEY', 'AuthenticationFailed']);
      expect(e.message).toContain(`branch key "${tenants.globex}" version`);
    }
    m.zeroize();
  });
});

describe('single-flight and the cache', () => {
  it('1,000 concurrent encrypts on a cold cache: one DynamoDB read and one KMS Decrypt', async () => {
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId: tenants.initech!, cacheTtlSeconds: 60 });
    resetCounts();
    const messages = await Promise.all(Array.from({ length: 1000 }, () => encrypt(pt, { keyring, suite: 0x0478 })));
    expect(counting.total('GetItem')).toBe(1);
    expect(kmsCalls(b.kms, 'Decrypt')).toBe(1);
    // …and decrypting them all needs no more: the active version was cached as that version too.
    const back = await Promise.all(messages.map((m) => decrypt(m.ciphertext, { keyring })));
    expect(back.every((r) => same(r.plaintext))).toBe(true);
    expect([counting.total('GetItem'), kmsCalls(b.kms, 'Decrypt')]).toEqual([1, 1]);
    expect(keyring.cache.stats.loads).toBe(1);
  });

  it('after the TTL (fake clock) the branch key is read again; the stale entry was zeroized', async () => {
    let now = 0;
    const keyring = new HierarchicalKeyring({
      keyStore: store,
      branchKeyId: tenants.acme!,
      cacheTtlSeconds: 600,
      refreshAheadSeconds: 0,
      now: () => now,
    });
    resetCounts();
    await encrypt(pt, { keyring });
    now += 599_999;
    await encrypt(pt, { keyring });
    expect(counting.total('GetItem')).toBe(1);
    now += 2;
    await encrypt(pt, { keyring });
    expect(counting.total('GetItem')).toBe(2);
    expect(keyring.cache.stats.expirations).toBeGreaterThanOrEqual(1);
  });

  it('refresh-ahead: a hit in the last minute of the TTL reads the store once in the background and is served at once', async () => {
    let now = 0;
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId: tenants.globex!, cacheTtlSeconds: 600, now: () => now });
    expect(keyring.refreshAheadMs).toBe(60_000);
    resetCounts();
    await encrypt(pt, { keyring });
    now += 540_001; // inside the last 60 s
    await Promise.all(Array.from({ length: 50 }, () => encrypt(pt, { keyring })));
    expect(keyring.cache.stats).toMatchObject({ refreshes: 1, loads: 2, misses: 1 });
    await keyring.cache.idle();
    expect(counting.total('GetItem')).toBe(2);
    now += 100_000; // past the first entry's TTL, inside the refreshed one's
    await encrypt(pt, { keyring });
    expect([counting.total('GetItem'), keyring.cache.stats.misses]).toEqual([2, 1]);
  });

  it('the cache limit bounds the entries (LRU), evicted ones zeroized', async () => {
    const keyring = new HierarchicalKeyring({
      keyStore: store,
      branchKeyIdSupplier: branchKeyIdFromContext('tenantKey'),
      cacheTtlSeconds: 60,
      cacheLimit: 2,
    });
    for (const id of Object.values(tenants)) await encrypt(pt, { keyring, encryptionContext: { tenantKey: id } });
    expect(keyring.cache.size).toBe(2);
    expect(keyring.cache.stats.evictions).toBeGreaterThan(0);
  });

  it('an aborted encrypt: ENVELOPE_ABORTED', async () => {
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId: tenants.acme!, cacheTtlSeconds: 60 });
    const e = await failure(encrypt(pt, { keyring, signal: AbortSignal.abort() }));
    expect(e.code).toBe('ENVELOPE_ABORTED');
  });
});

describe('rotation', () => {
  it('after VersionKey, old messages decrypt (their version is read) and new ones use the new version', async () => {
    const { branchKeyId, version: v1 } = await store.createKey();
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId, cacheTtlSeconds: 60 });
    const before = await encrypt(pt, { keyring });
    const { version: v2 } = await store.versionKey({ branchKeyId });
    const later = new HierarchicalKeyring({ keyStore: store, branchKeyId, cacheTtlSeconds: 60 });
    const after = await encrypt(pt, { keyring: later });
    // The EDK ciphertext's bytes 28..44 are the version
    // (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#ciphertext).
    const m1 = await later.onEncrypt(new EncryptionMaterials({ suite: SUITES.get(0x0478)!, encryptionContext: {} }));
    expect(Buffer.from(m1.encryptedDataKeys[0]!.ciphertext.subarray(28, 44)).toString('hex')).toBe(v2.replace(/-/g, ''));
    m1.zeroize();
    resetCounts();
    expect(same((await decrypt(before.ciphertext, { keyring: later })).plaintext)).toBe(true);
    expect(same((await decrypt(after.ciphertext, { keyring: later })).plaintext)).toBe(true);
    expect(counting.counts['us-east-1']?.GetItem).toBe(1); // v1 read once; v2 was cached with the active key
    expect(v1).not.toBe(v2);
  });
});
