import { describe, expect, it } from 'vitest';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  EnvelopeError,
  decrypt,
  encrypt,
  serializeEncryptionContext,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type Keyring,
} from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache, type CacheEvent } from '../src/index.js';

/** A counting AES-GCM keyring (like core's test keyring), optionally slow or failing. */
class CountingKeyring implements Keyring {
  encrypts = 0;
  decrypts = 0;
  fail = false;
  delayMs = 0;
  readonly handedOut: EncryptionMaterials[] = [];
  constructor(private readonly key = randomBytes(32)) {}
  async onEncrypt(m: EncryptionMaterials) {
    this.encrypts++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw new EnvelopeError('ENVELOPE_KMS', 'injected failure');
    const dk = randomBytes(m.suite.keyLength);
    m.setDataKey(dk);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(serializeEncryptionContext(m.encryptionContext));
    m.addEncryptedDataKey({ providerId: 'count', providerInfo: Buffer.from('k'), ciphertext: Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]) });
    dk.fill(0);
    this.handedOut.push(m);
    return m;
  }
  async onDecrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[]) {
    this.decrypts++;
    const e = edks.find((x) => x.providerId === 'count')!;
    const d = createDecipheriv('aes-256-gcm', this.key, e.ciphertext.subarray(0, 12));
    d.setAAD(serializeEncryptionContext(m.encryptionContext));
    d.setAuthTag(e.ciphertext.subarray(e.ciphertext.length - 16));
    m.setDataKey(Buffer.concat([d.update(e.ciphertext.subarray(12, e.ciphertext.length - 16)), d.final()]));
    return m;
  }
}

const pt = Buffer.alloc(1024, 1);

function setup(o: Partial<ConstructorParameters<typeof CachingMaterialsManager>[0]> = {}) {
  const keyring = new CountingKeyring();
  let now = 0;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const events: CacheEvent[] = [];
  const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 60_000, clock: clock.now, onEvent: (e) => events.push(e), ...o });
  return { keyring, cmm, clock, events };
}

describe('CachingMaterialsManager', () => {
  it('reuses a data key across messages, and every message decrypts', async () => {
    const { keyring, cmm } = setup();
    const cts = [];
    for (let i = 0; i < 10; i++) cts.push((await encrypt(pt, { materialsManager: cmm, suite: 0x0478 })).ciphertext);
    expect(keyring.encrypts).toBe(1);
    for (const ct of cts) expect(Buffer.from((await decrypt(ct, { materialsManager: cmm })).plaintext).equals(pt)).toBe(true);
    expect(keyring.decrypts).toBe(1);
    expect(cmm.metrics()).toMatchObject({ hits: 9 + 9, misses: 2, keyringCalls: 2 });
  });

  it('max age: an entry is not used past it, and is zeroized when it expires', async () => {
    const { keyring, cmm, clock } = setup({ maxAgeMs: 1000 });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    clock.advance(999);
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    expect(keyring.encrypts).toBe(1);
    clock.advance(1);
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    expect(keyring.encrypts).toBe(2);
    expect(keyring.handedOut[0]!.zeroized).toBe(true);
    expect(cmm.metrics().expirations).toBe(1);
  });

  it('max messages and max bytes', async () => {
    const m = setup({ maxMessagesEncrypted: 3 });
    for (let i = 0; i < 7; i++) await encrypt(pt, { materialsManager: m.cmm, suite: 0x0478 });
    expect(m.keyring.encrypts).toBe(3); // 3 + 3 + 1
    const b = setup({ maxBytesEncrypted: 2500 });
    for (let i = 0; i < 5; i++) await encrypt(pt, { materialsManager: b.cmm, suite: 0x0478 }); // 1024 bytes each: 2 per key
    expect(b.keyring.encrypts).toBe(3);
    // A message larger than the byte limit never uses the cache.
    await encrypt(Buffer.alloc(3000), { materialsManager: b.cmm, suite: 0x0478 });
    expect(b.cmm.metrics().bypassed).toBe(1);
  });

  it('partitions: two managers on one cache never share a key; the same partition does', async () => {
    const cache = new LruMaterialsCache({ capacity: 10 });
    const k = new CountingKeyring();
    const a = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, partition: 'a' });
    const b = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, partition: 'b' });
    const a2 = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, partition: 'a' });
    await encrypt(pt, { materialsManager: a, suite: 0x0478 });
    await encrypt(pt, { materialsManager: b, suite: 0x0478 });
    expect(k.encrypts).toBe(2);
    await encrypt(pt, { materialsManager: a2, suite: 0x0478 });
    expect(k.encrypts).toBe(2);
  });

  it('context isolation: a different context (or suite) never hits another entry', async () => {
    const { keyring, cmm } = setup();
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t: '1' } });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t: '2' } });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0578, encryptionContext: { t: '1' } });
    expect(keyring.encrypts).toBe(3);
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t: '1' } });
    expect(keyring.encrypts).toBe(3);
  });

  it('LRU eviction zeroizes the evicted data key', async () => {
    const { keyring, cmm } = setup({ cache: new LruMaterialsCache({ capacity: 2 }) });
    for (const t of ['1', '2', '3']) await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t } });
    expect(keyring.handedOut[0]!.zeroized).toBe(true);
    expect(keyring.handedOut[1]!.zeroized).toBe(false);
    expect(cmm.metrics().evictions).toBe(1);
  });

  it('hits get copies: the caller zeroizing its materials does not touch the cache', async () => {
    const { keyring, cmm } = setup();
    const req = { encryptionContext: {}, commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' as const, plaintextLength: 10 };
    const m1 = await cmm.getEncryptionMaterials(req);
    const m2 = await cmm.getEncryptionMaterials(req);
    expect(m1).not.toBe(keyring.handedOut[0]);
    expect(Buffer.from(m1.getDataKey()).equals(Buffer.from(m2.getDataKey()))).toBe(true);
    m1.zeroize();
    expect(keyring.handedOut[0]!.zeroized).toBe(false);
    expect(m2.getDataKey().some((b) => b !== 0)).toBe(true);
  });

  it('single-flight: 1,000 concurrent misses make one underlying call', async () => {
    const { keyring, cmm } = setup();
    keyring.delayMs = 20;
    const all = await Promise.all(Array.from({ length: 1000 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    expect(all).toHaveLength(1000);
    expect(keyring.encrypts).toBe(1);
  });

  it('single-flight with a failure: every waiter sees the error, nothing is cached, the next call retries', async () => {
    const { keyring, cmm } = setup();
    keyring.delayMs = 10;
    keyring.fail = true;
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as EnvelopeError).code === 'ENVELOPE_KMS')).toBe(true);
    expect(keyring.encrypts).toBe(1);
    keyring.fail = false;
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    expect(keyring.encrypts).toBe(2);
  });

  it('single-flight with a message limit: waiters beyond the limit load fresh keys', async () => {
    const { keyring, cmm } = setup({ maxMessagesEncrypted: 10 });
    keyring.delayMs = 5;
    await Promise.all(Array.from({ length: 35 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    expect(keyring.encrypts).toBe(4);
  });

  it('never cached: unknown-length streams and suites without a KDF', async () => {
    const { keyring, cmm } = setup();
    const req = { encryptionContext: {}, commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' as const };
    await cmm.getEncryptionMaterials(req);
    await cmm.getEncryptionMaterials(req);
    expect(keyring.encrypts).toBe(2);
    for (let i = 0; i < 3; i++) await encrypt(pt, { materialsManager: cmm, suite: 0x0078, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' });
    expect(keyring.encrypts).toBe(5);
    expect(cmm.metrics().bypassed).toBe(5);
  });

  it('events: one per miss and hit, with context keys only', async () => {
    const { cmm, events } = setup();
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { tenant: 'secret' } });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { tenant: 'secret' } });
    expect(events.map((e) => e.operation)).toEqual(['cache-miss', 'cache-hit']);
    expect(events[0]).toMatchObject({ kind: 'encrypt', suiteId: 0x0478, contextKeys: ['tenant'] });
    expect(JSON.stringify(events)).not.toContain('secret');
  });

  it('maxAgeMs is required', () => {
    expect(() => new CachingMaterialsManager({ underlying: new CountingKeyring(), maxAgeMs: undefined as unknown as number })).toThrow(/maxAgeMs: required/);
  });
});
