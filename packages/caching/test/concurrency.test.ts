import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encrypt, decrypt, type EnvelopeError } from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache } from '../src/index.js';
import { CountingKeyring, decRequest, encRequest } from './helpers/counting-keyring.js';

const pt = Buffer.alloc(1024, 1);

describe('single-flight in the manager', () => {
  it('1,000 concurrent misses make one underlying call; each caller gets its own copy and counts', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const all = await Promise.all(Array.from({ length: 1000 }, () => cmm.getEncryptionMaterials(encRequest(10))));
    expect(k.encrypts).toBe(1);
    expect(new Set(all).size).toBe(1000);
    expect(all.every((m) => m !== k.encrypted[0])).toBe(true);
    expect(cmm.metrics()).toMatchObject({ hits: 0, misses: 1000, coalesced: 999, keyringCalls: 1 });
  });

  it('1,000 concurrent encrypts end to end make one keyring call, and every message decrypts', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const cts = await Promise.all(Array.from({ length: 1000 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    expect(k.encrypts).toBe(1);
    const pts = await Promise.all(cts.map((c) => decrypt(c.ciphertext, { materialsManager: cmm })));
    expect(pts.every((p) => Buffer.from(p.plaintext).equals(pt))).toBe(true);
    expect(k.decrypts).toBe(1);
  });

  it('a failure reaches every waiter; nothing is cached; the next call retries', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    k.fail = true;
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => encrypt(pt, { materialsManager: cmm, suite: 0x0478 })));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as EnvelopeError).code === 'ENVELOPE_KMS')).toBe(true);
    expect(k.encrypts).toBe(1);
    expect(cmm.cache.size).toBe(0);
    k.fail = false;
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    expect(k.encrypts).toBe(2);
  });

  it('decrypt failures are shared too, and not cached', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    await cmm.getEncryptionMaterials(encRequest());
    const req = decRequest(k.encrypted[0]!);
    k.fail = true;
    k.latencyTurns = 2;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => cmm.decryptMaterials(req)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(k.decrypts).toBe(1);
    k.fail = false;
    await cmm.decryptMaterials(req);
    expect(k.decrypts).toBe(2);
  });

  it("a waiter that aborts leaves alone; the others still get the one call's key", async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const ac = new AbortController();
    const leaving = cmm.getEncryptionMaterials(encRequest(10, { signal: ac.signal }));
    const staying = Array.from({ length: 5 }, () => cmm.getEncryptionMaterials(encRequest(10)));
    ac.abort();
    await expect(leaving).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect((await Promise.all(staying)).every((m) => m.hasDataKey)).toBe(true);
    expect(k.encrypts).toBe(1);
    expect(k.signals[0]!.aborted).toBe(false);
    // An already-aborted request fails at once, even on a hit.
    await expect(cmm.getEncryptionMaterials(encRequest(10, { signal: AbortSignal.abort() }))).rejects.toMatchObject({
      code: 'ENVELOPE_ABORTED',
    });
  });

  it('waiters beyond the message limit go on to one new call together, not one each', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000, maxMessagesEncrypted: 10 });
    const all = await Promise.all(Array.from({ length: 35 }, () => cmm.getEncryptionMaterials(encRequest(10))));
    expect(k.encrypts).toBe(4); // 10 + 10 + 10 + 5
    const perKey = new Map<string, number>();
    for (const m of all) {
      const h = Buffer.from(m.getDataKey()).toString('hex');
      perKey.set(h, (perKey.get(h) ?? 0) + 1);
    }
    expect([...perKey.values()].sort((a, b) => a - b)).toEqual([5, 10, 10, 10]);
    expect(cmm.cache.size).toBe(1); // the last key has 5 uses left
  });

  it('a tiny LRU under many concurrent contexts still serves everyone (no retry storms)', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const cmm = new CachingMaterialsManager({ underlying: k, cache: new LruMaterialsCache({ capacity: 1 }), maxAgeMs: 60_000 });
    const all = await Promise.all(
      Array.from({ length: 200 }, (_, i) => cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: { t: String(i % 20) } }))),
    );
    expect(all).toHaveLength(200);
    expect(k.encrypts).toBe(20);
    for (let i = 0; i < 200; i++) expect(all[i]!.encryptionContext).toEqual({ t: String(i % 20) });
  });

  it('property: under any concurrent workload no data key passes a limit or crosses contexts, and the counters add up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.array(
          fc.array(
            fc.record({
              bytes: fc.integer({ min: 0, max: 3000 }),
              ctx: fc.constantFrom('a', 'b', 'c'),
              unknown: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
            }),
            { minLength: 1, maxLength: 30 },
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 3 }),
        async (maxMessages, maxBytes, batches, latencyTurns) => {
          const k = new CountingKeyring();
          k.latencyTurns = latencyTurns;
          const cmm = new CachingMaterialsManager({
            underlying: k,
            maxAgeMs: 60_000,
            maxMessagesEncrypted: maxMessages,
            maxBytesEncrypted: maxBytes,
            cache: new LruMaterialsCache({ capacity: 2 }),
          });
          const use = new Map<string, { messages: number; bytes: number; ctx: string; unknown: boolean }>();
          let requests = 0;
          for (const batch of batches) {
            requests += batch.length;
            const got = await Promise.all(
              batch.map((r) =>
                cmm.getEncryptionMaterials(
                  encRequest(r.bytes, { encryptionContext: { t: r.ctx }, ...(r.unknown ? { plaintextLength: undefined } : {}) }),
                ),
              ),
            );
            got.forEach((m, i) => {
              const r = batch[i]!;
              expect(m.encryptionContext).toEqual({ t: r.ctx });
              const h = Buffer.from(m.getDataKey()).toString('hex');
              const u = use.get(h) ?? { messages: 0, bytes: 0, ctx: r.ctx, unknown: false };
              // A stream of unknown length gets a data key of its own.
              if (r.unknown || u.unknown) expect(use.has(h)).toBe(false);
              u.unknown ||= r.unknown;
              u.messages++;
              u.bytes += r.bytes;
              expect(u.ctx).toBe(r.ctx);
              use.set(h, u);
            });
          }
          for (const u of use.values()) {
            if (u.messages > 1) {
              expect(u.messages).toBeLessThanOrEqual(maxMessages);
              expect(u.bytes).toBeLessThanOrEqual(maxBytes);
            }
          }
          const m = cmm.metrics();
          expect(m.hits + m.misses + m.bypassed).toBe(requests);
          expect(m.keyringCalls).toBe(k.encrypts);
          // Overflow waiters (past a limit) make extra calls: at least one per leader, at most one per miss.
          expect(m.keyringCalls).toBeGreaterThanOrEqual(m.misses - m.coalesced + m.bypassed);
          expect(m.keyringCalls).toBeLessThanOrEqual(m.misses + m.bypassed);
          expect(use.size).toBe(k.encrypts);
        },
      ),
      { numRuns: 60 },
    );
  });
});
