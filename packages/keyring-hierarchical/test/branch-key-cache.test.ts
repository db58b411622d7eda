/**
 * The branch key cache on a fake clock: TTL (its own and the reader's), LRU capacity, zeroize on
 * every way out, copies handed out, and single-flight misses (one load however many wait, a
 * failure caches nothing, one impatient caller does not fail the others).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { isEnvelopeError } from '@envelope/core';
import { BranchKeyCache, BranchKeyMaterials, cacheId, DECRYPT_SCOPE, ENCRYPT_SCOPE } from '../src/index.js';

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
const materials = (id = 'bk') => new BranchKeyMaterials({ branchKeyId: id, version: randomUUID(), key: randomBytes(32) });
const keyOf = (m: BranchKeyMaterials) => m.withKey((k) => Buffer.from(k));

/** A load the test settles by hand. */
function deferred() {
  let resolve!: (m: BranchKeyMaterials) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<BranchKeyMaterials>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('entries', () => {
  it('hands out copies; the entry zeroizes when its TTL passes, and a younger reader TTL expires it sooner', () => {
    const c = clock();
    const cache = new BranchKeyCache({ now: c.now });
    const m = materials();
    const original = keyOf(m);
    cache.put('a', m, 10_000);
    const copy = cache.get('a', 10_000)!;
    expect(keyOf(copy).equals(original)).toBe(true);
    copy.zeroize();
    expect(m.zeroized).toBe(false); // the cache's own is untouched
    c.advance(5_000);
    expect(cache.get('a', 4_000)).toBeUndefined(); // spec cacheEntryWithinLimits: older than this reader's TTL
    expect(m.zeroized).toBe(true);
    expect(cache.size).toBe(0);

    const n = materials();
    cache.put('b', n, 10_000);
    c.advance(10_000);
    expect(cache.get('b', 60_000)).toBeUndefined(); // its own TTL
    expect(n.zeroized).toBe(true);
    expect(cache.stats.expirations).toBe(2);
  });

  it('evicts the least recently used beyond capacity, zeroized; purgeExpired and clear zeroize too', () => {
    const c = clock();
    const cache = new BranchKeyCache({ capacity: 2, now: c.now });
    const [a, b, d] = [materials('a'), materials('b'), materials('d')];
    cache.put('a', a, 1000);
    cache.put('b', b, 1000);
    cache.get('a', 1000)!.zeroize(); // a is now the most recently used
    cache.put('d', d, 1000);
    expect(b.zeroized).toBe(true);
    expect([a.zeroized, d.zeroized]).toEqual([false, false]);
    expect(cache.stats.evictions).toBe(1);
    c.advance(1000);
    cache.purgeExpired();
    expect([a.zeroized, d.zeroized, cache.size]).toEqual([true, true, 0]);
    const e = materials();
    cache.put('e', e, 1000);
    cache.clear();
    expect(e.zeroized).toBe(true);
  });

  it('replacing an entry zeroizes the old one; the capacity must be at least 1', () => {
    const cache = new BranchKeyCache();
    const [a, b] = [materials(), materials()];
    cache.put('x', a, 1000);
    cache.put('x', b, 1000);
    expect([a.zeroized, b.zeroized]).toEqual([true, false]);
    expect(() => new BranchKeyCache({ capacity: 0 })).toThrow(/capacity/);
  });
});

describe('single-flight', () => {
  it('1,000 concurrent misses: one load, every caller its own copy, then hits', async () => {
    const cache = new BranchKeyCache();
    const load = deferred();
    let loads = 0;
    const calls = Array.from({ length: 1000 }, () =>
      cache.getOrLoad(
        'k',
        () => {
          loads++;
          return load.promise;
        },
        { ttlMs: 1000 },
      ),
    );
    const m = materials();
    load.resolve(m);
    const got = await Promise.all(calls);
    expect(loads).toBe(1);
    expect(cache.stats).toMatchObject({ loads: 1, misses: 1000, hits: 0 });
    expect(new Set(got).size).toBe(1000);
    for (const g of got) expect(keyOf(g).equals(keyOf(m))).toBe(true);
    (await cache.getOrLoad('k', () => Promise.reject(new Error('not called')), { ttlMs: 1000 })).zeroize();
    expect(cache.stats.hits).toBe(1);
  });

  it('a failed load rejects every waiter with its error and caches nothing', async () => {
    const cache = new BranchKeyCache();
    const load = deferred();
    const calls = Array.from({ length: 10 }, () => cache.getOrLoad('k', () => load.promise, { ttlMs: 1000 }));
    const boom = new Error('store down');
    load.reject(boom);
    for (const r of await Promise.allSettled(calls)) expect(r).toEqual({ status: 'rejected', reason: boom });
    expect(cache.size).toBe(0);
    expect(cache.inFlight).toBe(0);
  });

  it('an aborted caller leaves alone; the load goes on for the others; when all leave the load is aborted', async () => {
    const cache = new BranchKeyCache();
    const load = deferred();
    let loadSignal: AbortSignal | undefined;
    const impatient = new AbortController();
    const a = cache.getOrLoad(
      'k',
      (s) => {
        loadSignal = s;
        return load.promise;
      },
      { ttlMs: 1000, signal: impatient.signal },
    );
    const b = cache.getOrLoad('k', () => load.promise, { ttlMs: 1000 });
    impatient.abort();
    const ea = await a.catch((e: unknown) => e);
    expect(isEnvelopeError(ea, 'ENVELOPE_ABORTED')).toBe(true);
    await Promise.resolve();
    expect(loadSignal!.aborted).toBe(false);
    load.resolve(materials());
    expect((await b).zeroized).toBe(false);

    const only = new AbortController();
    const second = deferred();
    let secondSignal: AbortSignal | undefined;
    const c = cache.getOrLoad(
      'j',
      (s) => {
        secondSignal = s;
        return second.promise;
      },
      { ttlMs: 1000, signal: only.signal },
    );
    await Promise.resolve();
    only.abort();
    expect(isEnvelopeError(await c.catch((e: unknown) => e), 'ENVELOPE_ABORTED')).toBe(true);
    expect(secondSignal!.aborted).toBe(true);
    expect(cache.inFlight).toBe(0); // the next caller starts afresh
  });

  it('refresh-ahead: a hit near expiry starts one background load and is served from the entry; a failed refresh keeps it', async () => {
    const c = clock();
    const cache = new BranchKeyCache({ now: c.now });
    const first = materials();
    cache.put('k', first, 10_000);
    const refresh = deferred();
    let loads = 0;
    const load = () => {
      loads++;
      return refresh.promise;
    };
    c.advance(8_999);
    (await cache.getOrLoad('k', load, { ttlMs: 10_000, refreshAheadMs: 1000 })).zeroize();
    expect(loads).toBe(0); // not yet in the last second
    c.advance(2);
    const served = await Promise.all(Array.from({ length: 5 }, () => cache.getOrLoad('k', load, { ttlMs: 10_000, refreshAheadMs: 1000 })));
    expect(loads).toBe(1);
    for (const m of served) expect(keyOf(m).equals(keyOf(first))).toBe(true);
    const second = materials();
    refresh.resolve(second);
    await cache.idle();
    expect(first.zeroized).toBe(true); // replaced
    expect(keyOf(cache.get('k', 10_000)!).equals(keyOf(second))).toBe(true);

    c.advance(9_500);
    const failing = deferred();
    (await cache.getOrLoad('k', () => failing.promise, { ttlMs: 10_000, refreshAheadMs: 1000 })).zeroize();
    failing.reject(new Error('store down'));
    await cache.idle();
    expect(second.zeroized).toBe(false);
    expect(cache.get('k', 10_000)).toBeDefined();
    c.advance(500);
    expect(cache.get('k', 10_000)).toBeUndefined(); // still expires at its TTL
  });

  it('aliases: the loaded materials are cached under further ids as well', async () => {
    const cache = new BranchKeyCache();
    const m = materials();
    await cache.getOrLoad('active', async () => m, { ttlMs: 1000, aliases: (x) => [`version:${x.version}`] });
    expect(cache.get(`version:${m.version}`, 1000)).toBeDefined();
  });
});

describe('cache ids (spec Appendix A)', () => {
  it('differ by scope, partition, logical store, branch key and version', () => {
    const p1 = Buffer.from('p1');
    const ids = new Set([
      cacheId(ENCRYPT_SCOPE, p1, 'store', 'bk'),
      cacheId(DECRYPT_SCOPE, p1, 'store', 'bk', 'v'),
      cacheId(ENCRYPT_SCOPE, Buffer.from('p2'), 'store', 'bk'),
      cacheId(ENCRYPT_SCOPE, p1, 'store2', 'bk'),
      cacheId(ENCRYPT_SCOPE, p1, 'store', 'bk2'),
      cacheId(DECRYPT_SCOPE, p1, 'store', 'bk', 'w'),
    ]);
    expect(ids.size).toBe(6);
    expect(cacheId(ENCRYPT_SCOPE, p1, 'store', 'bk')).toBe(cacheId(ENCRYPT_SCOPE, Buffer.from('p1'), 'store', 'bk'));
  });
});
