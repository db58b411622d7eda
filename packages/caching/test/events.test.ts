import { describe, expect, it } from 'vitest';
import { encrypt } from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache, type CacheEvent } from '../src/index.js';
import { CountingKeyring, encRequest, fakeClock } from './helpers/counting-keyring.js';

describe('metrics and events', () => {
  it('one event per miss, hit and removal, with context keys only', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    const events: CacheEvent[] = [];
    const cmm = new CachingMaterialsManager({
      underlying: k,
      cache: new LruMaterialsCache({ capacity: 1 }),
      maxAgeMs: 1000,
      clock: clock.now,
      partition: 'orders',
      onEvent: (e) => events.push(e),
    });
    const ctx = { tenant: 'secret-tenant', b: 'secret-b' };
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478, encryptionContext: ctx });
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478, encryptionContext: ctx });
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478, encryptionContext: { other: 'secret-other' } }); // evicts
    clock.advance(1000);
    await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478, encryptionContext: { other: 'secret-other' } }); // expired
    expect(events.map((e) => [e.operation, e.reason])).toEqual([
      ['cache-miss', undefined],
      ['cache-hit', undefined],
      ['cache-miss', undefined], // served first, then stored: storing evicts the other entry
      ['cache-evict', 'evicted'],
      ['cache-evict', 'expired'],
      ['cache-miss', undefined],
    ]);
    expect(events[0]).toEqual({
      operation: 'cache-miss',
      kind: 'encrypt',
      partition: 'orders',
      suiteId: 0x0478,
      latencyMs: 0,
      contextKeys: ['b', 'tenant'],
      coalesced: false,
    });
    expect(events[3]).toMatchObject({ kind: 'encrypt', contextKeys: ['b', 'tenant'], suiteId: 0x0478 });
    const text = JSON.stringify(events);
    expect(text).not.toMatch(/secret/);
    expect(cmm.metrics()).toEqual({
      hits: 1,
      misses: 3,
      coalesced: 0,
      keyringCalls: 3,
      bypassed: 0,
      refreshes: 0,
      evictions: 1,
      expirations: 1,
      exhaustions: 0,
    });
  });

  it('miss latency includes the underlying call; coalesced misses say so; decrypt events say decrypt', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    // The underlying call "takes" 20 ms on the manager's (fake) clock; its callers wait a few turns.
    k.beforeAnswer = () => clock.advance(20);
    k.latencyTurns = 2;
    const events: CacheEvent[] = [];
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000, clock: clock.now, onEvent: (e) => events.push(e) });
    const [a] = await Promise.all([
      encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 }),
      encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478 }),
    ]);
    expect(events.map((e) => e.coalesced)).toEqual([false, true]);
    expect(events[0]!.latencyMs).toBe(20);
    expect(events[1]!.latencyMs).toBe(20); // the coalesced caller waited for the same call
    const { decrypt } = await import('@envelope/core');
    await decrypt(a.ciphertext, { materialsManager: cmm });
    expect(events.at(-1)).toMatchObject({ operation: 'cache-miss', kind: 'decrypt' });
  });

  it('a throwing event sink does not break encryption', async () => {
    const cmm = new CachingMaterialsManager({
      underlying: new CountingKeyring(),
      maxAgeMs: 60_000,
      onEvent: () => {
        throw new Error('sink down');
      },
    });
    await cmm.getEncryptionMaterials(encRequest());
    await cmm.getEncryptionMaterials(encRequest());
    expect(cmm.metrics().hits).toBe(1);
  });

  it('metrics() is a snapshot', async () => {
    const cmm = new CachingMaterialsManager({ underlying: new CountingKeyring(), maxAgeMs: 60_000 });
    const m = cmm.metrics();
    m.hits = 99;
    expect(cmm.metrics().hits).toBe(0);
  });
});
