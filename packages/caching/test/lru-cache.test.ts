import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { EncryptionMaterials, getSuite } from '@envelope/core';
import { borrowDataKey } from '../../core/src/materials/materials.js';
import { LruMaterialsCache, type CacheEntry, type RemovalReason } from '../src/index.js';

function entry(expiresAt = Infinity, removed?: RemovalReason[]): CacheEntry & { key: Uint8Array } {
  const materials = new EncryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {} }).setDataKey(randomBytes(32));
  return { materials, createdAt: 0, expiresAt, messages: 0, bytes: 0, onRemove: (r) => removed?.push(r), key: borrowDataKey(materials) };
}

const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);

describe('LruMaterialsCache', () => {
  it('holds at most capacity entries and evicts the least recently used, zeroizing it', () => {
    const removed: RemovalReason[] = [];
    const c = new LruMaterialsCache({ capacity: 2 });
    const a = entry(Infinity, removed);
    const b = entry(Infinity, removed);
    const d = entry(Infinity, removed);
    c.put('a', a);
    c.put('b', b);
    expect(c.get('a', 0)).toBe(a); // a is now the most recent
    c.put('d', d);
    expect(c.size).toBe(2);
    expect(c.get('b', 0)).toBeUndefined();
    expect(b.materials.zeroized).toBe(true);
    expect(zero(b.key)).toBe(true);
    expect(zero(a.key)).toBe(false);
    expect(removed).toEqual(['evicted']);
  });

  it('never returns an entry at or after its expiry, and zeroizes it', () => {
    const removed: RemovalReason[] = [];
    const c = new LruMaterialsCache({ capacity: 10 });
    const e = entry(100, removed);
    c.put('e', e);
    expect(c.get('e', 99)).toBe(e);
    expect(c.get('e', 100)).toBeUndefined();
    expect(zero(e.key)).toBe(true);
    expect(removed).toEqual(['expired']);
    expect(c.size).toBe(0);
  });

  it('each get prunes expired entries from the least recently used tail', () => {
    const c = new LruMaterialsCache({ capacity: 10, pruneTailSize: 2 });
    const old = [entry(10), entry(10), entry(10)];
    old.forEach((e, i) => c.put(`old${i}`, e));
    c.put('fresh', entry(1000));
    c.get('fresh', 50);
    // Two of the three expired tail entries were checked and removed.
    expect(c.size).toBe(2);
    expect(old.filter((e) => e.materials.zeroized)).toHaveLength(2);
    expect(c.prune(50)).toBe(1);
    expect(old.every((e) => zero(e.key))).toBe(true);
  });

  it('put replaces and zeroizes the previous entry; putting the same entry again is a no-op', () => {
    const removed: RemovalReason[] = [];
    const c = new LruMaterialsCache({ capacity: 10 });
    const a = entry(Infinity, removed);
    const b = entry(Infinity, removed);
    c.put('k', a);
    c.put('k', a);
    expect(a.materials.zeroized).toBe(false);
    c.put('k', b);
    expect(zero(a.key)).toBe(true);
    expect(removed).toEqual(['replaced']);
    expect(c.get('k', 0)).toBe(b);
  });

  it('delete removes only the expected entry, and zeroizes it', () => {
    const c = new LruMaterialsCache({ capacity: 10 });
    const a = entry();
    const b = entry();
    c.put('k', a);
    expect(c.delete('k', 'exhausted', b)).toBe(false);
    expect(a.materials.zeroized).toBe(false);
    expect(c.delete('k', 'exhausted', a)).toBe(true);
    expect(zero(a.key)).toBe(true);
    expect(c.delete('k', 'exhausted')).toBe(false);
  });

  it('clear zeroizes everything; capacity 0 keeps nothing', () => {
    const c = new LruMaterialsCache({ capacity: 3 });
    const es = [entry(), entry(), entry()];
    es.forEach((e, i) => c.put(String(i), e));
    c.clear();
    expect(c.size).toBe(0);
    expect(es.every((e) => zero(e.key))).toBe(true);
    const none = new LruMaterialsCache({ capacity: 0 });
    const e = entry();
    none.put('x', e);
    expect(none.size).toBe(0);
    expect(zero(e.key)).toBe(true);
  });

  it('a throwing removal hook does not stop the cache', () => {
    const c = new LruMaterialsCache({ capacity: 1 });
    const a: CacheEntry = {
      ...entry(),
      onRemove: () => {
        throw new Error('hook');
      },
    };
    c.put('a', a);
    c.put('b', entry());
    expect(a.materials.zeroized).toBe(true);
    expect(c.size).toBe(1);
  });

  it('rejects bad capacities', () => {
    expect(() => new LruMaterialsCache({ capacity: -1 })).toThrow(/capacity/);
    expect(() => new LruMaterialsCache({ capacity: 1.5 })).toThrow(/capacity/);
    expect(() => new LruMaterialsCache({ capacity: 1, pruneTailSize: -1 })).toThrow(/pruneTailSize/);
  });
});
