import { describe, expect, it } from 'vitest';
import { CachingMaterialsManager } from '../src/index.js';
import { CountingKeyring, encRequest, fakeClock, turn } from './helpers/counting-keyring.js';

/** The keyring's calls have ended and the flights they fed have settled (events, not time). */
const settled = async (k: CountingKeyring): Promise<void> => {
  await k.idle();
  await turn();
};
const dk = (m: { getDataKey(): Uint8Array }): string => Buffer.from(m.getDataKey()).toString('hex');

describe('refresh-ahead', () => {
  it('a hit near max age renews the key off the request path; the old key serves until the new one replaces it', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 1000, refreshAheadMs: 200, clock: clock.now });
    const first = dk(await cmm.getEncryptionMaterials(encRequest()));
    clock.advance(799);
    await cmm.getEncryptionMaterials(encRequest());
    expect(k.encrypts).toBe(1);
    k.latencyTurns = 2;
    clock.advance(1);
    // Within 200 ms of max age: served from the old key at once, and one refresh starts.
    expect(dk(await cmm.getEncryptionMaterials(encRequest()))).toBe(first);
    expect(dk(await cmm.getEncryptionMaterials(encRequest()))).toBe(first);
    expect(k.encrypts).toBe(2);
    await settled(k);
    const second = dk(await cmm.getEncryptionMaterials(encRequest()));
    expect(second).not.toBe(first);
    expect(k.encrypted[0]!.zeroized).toBe(true);
    expect(cmm.metrics()).toMatchObject({ refreshes: 1, keyringCalls: 2, evictions: 1 });
    // The new entry has a full max age from when it was made.
    clock.advance(900);
    expect(dk(await cmm.getEncryptionMaterials(encRequest()))).toBe(second);
  });

  it('a request after expiry joins a refresh still running instead of making its own call', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 1000, refreshAheadMs: 200, clock: clock.now });
    await cmm.getEncryptionMaterials(encRequest());
    k.latencyTurns = 2;
    clock.advance(900);
    await cmm.getEncryptionMaterials(encRequest()); // starts the refresh
    clock.advance(200); // the old entry has expired
    const m = await cmm.getEncryptionMaterials(encRequest());
    expect(k.encrypts).toBe(2);
    expect(dk(m)).toBe(dk(k.encrypted[1]!));
    expect(cmm.metrics()).toMatchObject({ coalesced: 1, refreshes: 1 });
  });

  it('a failed refresh is not retried on every hit; the entry serves until max age, then a normal miss', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 1000, refreshAheadMs: 200, clock: clock.now });
    await cmm.getEncryptionMaterials(encRequest());
    k.fail = true;
    clock.advance(900);
    for (let i = 0; i < 5; i++) await cmm.getEncryptionMaterials(encRequest());
    await settled(k);
    expect(k.encrypts).toBe(2);
    k.fail = false;
    clock.advance(100);
    await cmm.getEncryptionMaterials(encRequest());
    expect(k.encrypts).toBe(3);
  });

  it('off by default', async () => {
    const k = new CountingKeyring();
    const clock = fakeClock();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 1000, clock: clock.now });
    await cmm.getEncryptionMaterials(encRequest());
    clock.advance(999);
    await cmm.getEncryptionMaterials(encRequest());
    await settled(k);
    expect(k.encrypts).toBe(1);
  });
});
