import { describe, expect, it, vi } from 'vitest';
import { encrypt } from '@envelope/core';
import { borrowDataKey } from '../../core/src/materials/materials.js';
import { CachingMaterialsManager, LruMaterialsCache } from '../src/index.js';
import { CountingKeyring, decRequest, encRequest, fakeClock, turn } from './helpers/counting-keyring.js';

const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);

describe('key material', () => {
  it('hits get fresh materials with a copy; the caller zeroizing its copy does not touch the cache', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const m1 = await cmm.getEncryptionMaterials(encRequest());
    const m2 = await cmm.getEncryptionMaterials(encRequest());
    const cached = k.encrypted[0]!;
    expect(m1).not.toBe(cached);
    expect(m2).not.toBe(m1);
    expect(borrowDataKey(m1)).not.toBe(borrowDataKey(cached));
    expect(Buffer.from(m1.getDataKey())).toEqual(Buffer.from(cached.getDataKey()));
    expect(m1.encryptedDataKeys).toEqual(cached.encryptedDataKeys);
    m1.zeroize();
    expect(cached.zeroized).toBe(false);
    expect(zero(m2.getDataKey())).toBe(false);
    // encrypt zeroizes what it gets: the cache keeps serving.
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 });
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 });
    expect(k.encrypts).toBe(1);
    expect(zero(borrowDataKey(cached))).toBe(false);
  });

  it('decrypt hits get copies too', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    await cmm.getEncryptionMaterials(encRequest());
    const d1 = await cmm.decryptMaterials(decRequest(k.encrypted[0]!));
    const d2 = await cmm.decryptMaterials(decRequest(k.encrypted[0]!));
    expect(d1).not.toBe(k.decrypted[0]);
    d1.zeroize();
    expect(k.decrypted[0]!.zeroized).toBe(false);
    expect(Buffer.from(d2.getDataKey())).toEqual(Buffer.from(k.encrypted[0]!.getDataKey()));
  });

  it('LRU eviction zeroizes the evicted data key (the cached buffer itself)', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, cache: new LruMaterialsCache({ capacity: 2 }), maxAgeMs: 60_000 });
    const buffers: Uint8Array[] = [];
    for (const t of ['1', '2', '3']) {
      await cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { t } }));
      buffers.push(borrowDataKey(k.encrypted.at(-1)!));
    }
    expect(buffers.map(zero)).toEqual([true, false, false]);
    expect(cmm.metrics().evictions).toBe(1);
    // The evicted context misses again (and evicts the next least recently used).
    await cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { t: '1' } }));
    expect(k.encrypts).toBe(4);
    expect(buffers.map(zero)).toEqual([true, true, false]);
  });

  it('expiry on access zeroizes (fake clock)', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 1000, clock: clock.now });
    await cmm.getEncryptionMaterials(encRequest());
    const buf = borrowDataKey(k.encrypted[0]!);
    clock.advance(5000);
    expect(zero(buf)).toBe(false); // nobody asked yet: a custom clock sets no timers
    await cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { other: '' } }));
    expect(zero(buf)).toBe(true); // pruned from the LRU tail by the next get
    expect(cmm.metrics().expirations).toBe(1);
  });

  it("expiry without any further request zeroizes too (real clock: an unref'd timer)", async () => {
    // The manager's own clock and expiry timer (no custom clock), faked: the timer fires when the
    // test moves time past the max age, not after a sleep.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const k = new CountingKeyring();
      const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 30 });
      await cmm.getEncryptionMaterials(encRequest());
      const buf = borrowDataKey(k.encrypted[0]!);
      vi.advanceTimersByTime(29);
      expect(zero(buf)).toBe(false);
      vi.advanceTimersByTime(1);
      expect(zero(buf)).toBe(true);
      expect(cmm.cache.size).toBe(0);
      expect(cmm.metrics().expirations).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('exhaustion and clear zeroize', async () => {
    const k = new CountingKeyring();
    const cache = new LruMaterialsCache({ capacity: 10 });
    const cmm = new CachingMaterialsManager({ underlying: k, cache, maxAgeMs: 60_000, maxMessagesEncrypted: 2 });
    await cmm.getEncryptionMaterials(encRequest());
    const first = borrowDataKey(k.encrypted[0]!);
    await cmm.getEncryptionMaterials(encRequest());
    expect(zero(first)).toBe(true); // the second use was the last: not kept
    await cmm.getEncryptionMaterials(encRequest());
    const second = borrowDataKey(k.encrypted[1]!);
    cache.clear();
    expect(zero(second)).toBe(true);
  });

  it('a miss whose caller gives up aborts the underlying call, and nothing is kept', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const ac = new AbortController();
    const p = cmm.getEncryptionMaterials(encRequest(10, { signal: ac.signal }));
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    // Every caller left, so the call itself was aborted: nothing was produced or kept.
    await k.idle();
    await turn();
    expect(k.signals[0]!.aborted).toBe(true);
    expect(k.encrypted).toHaveLength(0);
    expect(cmm.cache.size).toBe(0);
  });
});
