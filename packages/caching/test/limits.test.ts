import { describe, expect, it } from 'vitest';
import { borrowDataKey } from '../../core/src/materials/materials.js';
import { CachingMaterialsManager, LruMaterialsCache } from '../src/index.js';
import { CountingKeyring, decRequest, encRequest, fakeClock } from './helpers/counting-keyring.js';

const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);

function setup(o: { maxAgeMs?: number; maxMessagesEncrypted?: number; maxBytesEncrypted?: number } = {}) {
  const keyring = new CountingKeyring();
  const clock = fakeClock();
  const cmm = new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 60_000, clock: clock.now, ...o });
  return { keyring, clock, cmm };
}

describe('limits', () => {
  it('max age: usable until just before it, then a miss; the expired key is zeroized', async () => {
    const { keyring, cmm, clock } = setup({ maxAgeMs: 1000 });
    const m1 = await cmm.getEncryptionMaterials(encRequest());
    const cached = borrowDataKey(keyring.encrypted[0]!);
    expect(zero(cached)).toBe(false);
    clock.advance(999);
    const m2 = await cmm.getEncryptionMaterials(encRequest());
    expect(Buffer.from(m2.getDataKey())).toEqual(Buffer.from(m1.getDataKey()));
    expect(keyring.encrypts).toBe(1);
    clock.advance(1);
    const m3 = await cmm.getEncryptionMaterials(encRequest());
    expect(keyring.encrypts).toBe(2);
    expect(Buffer.from(m3.getDataKey())).not.toEqual(Buffer.from(m1.getDataKey()));
    expect(zero(cached)).toBe(true);
    expect(cmm.metrics()).toMatchObject({ hits: 1, misses: 2, expirations: 1 });
  });

  it('max age applies to decrypt entries too', async () => {
    const { keyring, cmm, clock } = setup({ maxAgeMs: 1000 });
    await cmm.getEncryptionMaterials(encRequest());
    const req = decRequest(keyring.encrypted[0]!);
    await cmm.decryptMaterials(req);
    clock.advance(999);
    await cmm.decryptMaterials(req);
    expect(keyring.decrypts).toBe(1);
    clock.advance(1);
    await cmm.decryptMaterials(req);
    expect(keyring.decrypts).toBe(2);
    expect(keyring.decrypted[0]!.zeroized).toBe(true);
  });

  it('max messages: exactly N messages per data key, then the key is retired and zeroized', async () => {
    const { keyring, cmm } = setup({ maxMessagesEncrypted: 3 });
    const keys: string[] = [];
    for (let i = 0; i < 7; i++) keys.push(Buffer.from((await cmm.getEncryptionMaterials(encRequest())).getDataKey()).toString('hex'));
    expect(keyring.encrypts).toBe(3); // 3 + 3 + 1
    expect(keys.slice(0, 3).every((k) => k === keys[0])).toBe(true);
    expect(keys.slice(3, 6).every((k) => k === keys[3])).toBe(true);
    expect(new Set(keys).size).toBe(3);
    expect(keyring.encrypted[0]!.zeroized).toBe(true);
    expect(keyring.encrypted[1]!.zeroized).toBe(true);
    expect(keyring.encrypted[2]!.zeroized).toBe(false);
    expect(cmm.metrics()).toMatchObject({ hits: 4, misses: 3, exhaustions: 2 });
  });

  it('max messages 1: every message gets its own data key, and none is kept', async () => {
    const { keyring, cmm } = setup({ maxMessagesEncrypted: 1 });
    for (let i = 0; i < 3; i++) await cmm.getEncryptionMaterials(encRequest());
    expect(keyring.encrypts).toBe(3);
    expect(keyring.encrypted.every((m) => m.zeroized)).toBe(true);
    expect(cmm.metrics().hits).toBe(0);
  });

  it('max bytes: a use that would pass it retires the key; the bytes counted are plaintextLength', async () => {
    const { keyring, cmm } = setup({ maxBytesEncrypted: 2500 });
    for (let i = 0; i < 5; i++) await cmm.getEncryptionMaterials(encRequest(1024)); // 2 per key
    expect(keyring.encrypts).toBe(3);
    // 1024 used on the current key: 1476 more fit exactly, one byte more does not.
    await cmm.getEncryptionMaterials(encRequest(1476));
    expect(keyring.encrypts).toBe(3);
    await cmm.getEncryptionMaterials(encRequest(1));
    expect(keyring.encrypts).toBe(4);
    // Zero-length messages still count as messages, not bytes.
    await cmm.getEncryptionMaterials(encRequest(0));
    expect(keyring.encrypts).toBe(4);
  });

  it('max bytes: a message larger than the limit never touches the cache', async () => {
    const { keyring, cmm } = setup({ maxBytesEncrypted: 2500 });
    await cmm.getEncryptionMaterials(encRequest(100));
    await cmm.getEncryptionMaterials(encRequest(2501));
    await cmm.getEncryptionMaterials(encRequest(100));
    expect(keyring.encrypts).toBe(2);
    expect(cmm.metrics()).toMatchObject({ hits: 1, misses: 1, bypassed: 1 });
  });

  it('a shared entry obeys the stricter max age of the manager using it', async () => {
    const cache = new LruMaterialsCache({ capacity: 10 });
    const keyring = new CountingKeyring();
    const clock = fakeClock();
    const long = new CachingMaterialsManager({ underlying: keyring, cache, maxAgeMs: 10_000, partition: 'p', clock: clock.now });
    const short = new CachingMaterialsManager({ underlying: keyring, cache, maxAgeMs: 1_000, partition: 'p', clock: clock.now });
    await long.getEncryptionMaterials(encRequest());
    await short.getEncryptionMaterials(encRequest());
    expect(keyring.encrypts).toBe(1);
    clock.advance(1_000);
    await short.getEncryptionMaterials(encRequest());
    expect(keyring.encrypts).toBe(2);
  });

  it('validates its options, naming the parameter', () => {
    const underlying = new CountingKeyring();
    expect(() => new CachingMaterialsManager({ underlying, maxAgeMs: undefined as unknown as number })).toThrow(/maxAgeMs: required/);
    expect(() => new CachingMaterialsManager({ underlying, maxAgeMs: 0 })).toThrow(/maxAgeMs/);
    expect(() => new CachingMaterialsManager({ underlying, maxAgeMs: 1, maxMessagesEncrypted: 0 })).toThrow(/maxMessagesEncrypted/);
    expect(() => new CachingMaterialsManager({ underlying, maxAgeMs: 1, maxBytesEncrypted: 1.5 })).toThrow(/maxBytesEncrypted/);
    expect(() => new CachingMaterialsManager({ underlying, maxAgeMs: 100, refreshAheadMs: 100 })).toThrow(/refreshAheadMs/);
    expect(() => new CachingMaterialsManager({ underlying, maxAgeMs: 1, partition: '' })).toThrow(/partition/);
    expect(() => new CachingMaterialsManager({ underlying: {} as never, maxAgeMs: 1 })).toThrow(/underlying/);
    try {
      new CachingMaterialsManager({ underlying, maxAgeMs: -1 });
    } catch (e) {
      expect(e).toMatchObject({ code: 'ENVELOPE_INVALID_ARGUMENT' });
    }
  });
});
