/**
 * Zeroization audit (issue #10), the caching materials manager: hits hand out copies, the cache
 * zeroizes its own on eviction, expiry and exhaustion, and a failed or abandoned miss keeps
 * nothing. The capture harness is test/zeroization/capture.ts.
 */
import { cap, captured, describeLive, expectAllWiped, isZero, turns } from './zeroization/capture.js';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { decrypt, encrypt } from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache } from '@envelope/caching';
import { aes, failsAfter, held, pt } from './zeroization/fixtures.js';

describe('CachingMaterialsManager', () => {
  it('hits hand out copies that encrypt/decrypt wipe; the cache keeps its own until eviction, then it is zeroed', async () => {
    const cache = new LruMaterialsCache({ capacity: 1 });
    const cmm = new CachingMaterialsManager({ underlying: aes, cache, maxAgeMs: 60_000 });
    const cts = [];
    for (let i = 0; i < 3; i++)
      cts.push((await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t: '1' } })).ciphertext);
    for (const c of cts) await decrypt(c, { materialsManager: cmm });
    expect(cmm.metrics()).toMatchObject({ hits: 4, keyringCalls: 2 });
    // The decrypt entry pushed the encrypt entry out (capacity 1): that one is zeroed already.
    const owners = captured('materials-own');
    const live = owners.filter((c) => !isZero(c.buf));
    expect(live).toHaveLength(1); // the cached decryption materials, still serving
    expectAllWiped({ 'materials-own': 8, 'derived-key': 6 }, (c) => c.buf === live[0]!.buf);
    cache.clear();
    expectAllWiped({ 'materials-own': 8 });
  });

  it('expiry (timer and on access) and exhaustion zero the cached key', async () => {
    // The expiry timer runs on the real clock only (a custom clock sets none): fake that clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    onTestFinished(() => void vi.useRealTimers());
    const cmm = new CachingMaterialsManager({ underlying: aes, maxAgeMs: 40, maxMessagesEncrypted: 2 });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { e: '1' } });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { e: '1' } }); // last use: dropped now
    expectAllWiped({ 'materials-own': 3 });
    cap.log.length = 0;
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { e: '2' } });
    expect(describeLive(captured('materials-own'))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(40); // the unref'd expiry timer fires
    expectAllWiped({ 'materials-own': 2 });
    expect(cmm.metrics()).toMatchObject({ expirations: 1, exhaustions: 1 });
  });

  it('a failing underlying call and an abandoned miss keep nothing', async () => {
    const cmm = new CachingMaterialsManager({ underlying: failsAfter(aes), maxAgeMs: 60_000 });
    await expect(encrypt(pt, { materialsManager: cmm, suite: 0x0478 })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    expectAllWiped({ 'materials-own': 1 });
    cap.log.length = 0;
    const late = held(aes);
    const lazy = new CachingMaterialsManager({ underlying: late.keyring, maxAgeMs: 60_000 });
    const ac = new AbortController();
    const p = encrypt(pt, { materialsManager: lazy, suite: 0x0478, signal: ac.signal });
    await late.entered;
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    late.release(); // the keyring (which ignores the signal) finishes; the result is cached…
    await late.finished;
    await turns(2);
    const kept = captured('materials-own');
    (lazy.cache as LruMaterialsCache).clear(); // …until it leaves the cache
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expectAllWiped({ 'materials-own': 1 });
  });
});
