import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, parseHeader } from '@envelope/core';
import { HealthRegistry, MultiRegionKeyring, type MultiRegionEvent } from '../src/index.js';
import { FakeKms } from './fake-kms.js';

const acct = '111122223333';
const arn = (region: string, id: string) => `arn:aws:kms:${region}:${acct}:key/${id}`;
const independent = [arn('us-east-1', 'k-east'), arn('us-west-2', 'k-west'), arn('eu-west-1', 'k-eu')];
const mrk = ['us-east-1', 'us-west-2', 'eu-west-1'].map((r) => arn(r, 'mrk-0123456789abcdef0123456789abcdef'));
const limits = { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 };

function make(keys: string[], kms: FakeKms, extra: Partial<ConstructorParameters<typeof MultiRegionKeyring>[0]> = {}) {
  const events: MultiRegionEvent[] = [];
  const keyring = new MultiRegionKeyring({
    keys: keys.map((keyId) => ({ keyId })),
    kms,
    health: new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 200 } }),
    deadlineMs: 1000,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { keyring, events };
}

describe('MultiRegionKeyring, independent keys', () => {
  it('wraps the data key in every region, concurrently', async () => {
    const kms = new FakeKms();
    for (const r of ['us-west-2', 'eu-west-1']) kms.fault(r, { mode: 'ok', latencyMs: 50 });
    const { keyring, events } = make(independent, kms);
    const { ciphertext, warnings } = await encrypt(Buffer.from('hello'), { keyring, suite: 0x0478 });
    // Both Encrypt calls started before either finished: they ran side by side.
    const enc = kms.calls.filter((c) => c.includes('Encrypt:'));
    expect(enc.slice(0, 2).sort()).toEqual(['Encrypt:eu-west-1', 'Encrypt:us-west-2']);
    expect(events.filter((e) => e.type === 'call' && e.operation === 'Encrypt')).toHaveLength(2);
    expect(warnings).toEqual([]);
    const edks = parseHeader(ciphertext, limits).encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString());
    expect(edks).toEqual(independent);
    expect(kms.calls[0]).toBe('GenerateDataKey:us-east-1');
  });

  it('decrypts with each region alone', async () => {
    const kms = new FakeKms();
    const { keyring } = make(independent, kms);
    const { ciphertext } = await encrypt(Buffer.from('hello'), { keyring, suite: 0x0478 });
    for (const key of independent) {
      const { keyring: single } = make([key], kms);
      expect(Buffer.from((await decrypt(ciphertext, { keyring: single })).plaintext).toString()).toBe('hello');
    }
  });

  it('encrypt policy all: one region down fails the encrypt with every cause', async () => {
    const kms = new FakeKms();
    kms.fault('eu-west-1', { mode: 'error', name: 'KMSInternalException' });
    const { keyring } = make(independent, kms, { encryptPolicy: 'all' });
    await expect(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 })).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
      causes: [{ region: 'eu-west-1', reason: 'KMSInternalException' }],
    });
  });

  it('encrypt policy primary: a secondary down gives a degraded message that says so', async () => {
    const kms = new FakeKms();
    kms.fault('eu-west-1', { mode: 'error', name: 'KMSInternalException' });
    const { keyring, events } = make(independent, kms, { encryptPolicy: 'primary' });
    const { warnings } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478 });
    expect(warnings).toMatchObject([{ code: 'DEGRADED_ENCRYPT', details: { missingRegions: ['eu-west-1'] } }]);
    expect(events.find((e) => e.type === 'encrypt')).toMatchObject({ outcome: 'degraded', missingRegions: ['eu-west-1'] });
  });

  it('encrypt policy primary: the primary down fails', async () => {
    const kms = new FakeKms();
    kms.fault('us-east-1', { mode: 'error', name: 'KMSInternalException' });
    const { keyring } = make(independent, kms, { encryptPolicy: 'primary' });
    await expect(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
  });

  it('encrypt policy quorum: the primary down, the data key is made locally and wrapped by the quorum', async () => {
    const kms = new FakeKms();
    kms.fault('us-east-1', { mode: 'hang' });
    const { keyring } = make(independent, kms, { encryptPolicy: { quorum: 2 }, callTimeoutMs: 100 });
    const { ciphertext, warnings } = await encrypt(Buffer.from('quorum'), { keyring, suite: 0x0478 });
    expect(warnings[0]).toMatchObject({ code: 'DEGRADED_ENCRYPT', details: { missingRegions: ['us-east-1'] } });
    kms.fault('us-east-1', { mode: 'ok' });
    const { keyring: west } = make([independent[1]!], kms);
    expect(Buffer.from((await decrypt(ciphertext, { keyring: west })).plaintext).toString()).toBe('quorum');
    kms.fault('eu-west-1', { mode: 'error', name: 'KMSInternalException' });
    kms.fault('us-east-1', { mode: 'hang' });
    await expect(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
  });
});

describe('MultiRegionKeyring, hedged decrypt', () => {
  it('a blackholed primary is hedged around fast, then skipped once its breaker opens', async () => {
    const kms = new FakeKms();
    const { keyring, events } = make(independent, kms, { hedgeAfterMs: 30 });
    const { ciphertext } = await encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 });
    kms.fault('us-east-1', { mode: 'hang' });
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      expect(Buffer.from((await decrypt(ciphertext, { keyring })).plaintext).toString()).toBe('dr');
      times.push(performance.now() - t0);
    }
    // Bounded by the hedge delay, not by the (infinite) blackhole; generous for a loaded CI box.
    expect(Math.max(...times)).toBeLessThan(500);
    expect(keyring.healthSnapshot().find((h) => h.region === 'us-east-1')?.breaker).toBe('open');
    // Once open, the primary is not tried: the last decrypt went straight to a healthy region.
    const decrypts = events.filter((e) => e.type === 'decrypt');
    expect(decrypts.slice(0, 3).every((e) => e.type === 'decrypt' && e.failover)).toBe(true);
    expect(decrypts.at(-1)).toMatchObject({ failover: false, attempts: 1 });
    expect(decrypts.at(-1)).not.toMatchObject({ region: 'us-east-1' });
  });

  it('the breaker half-opens after the cool-down and closes when the region recovers', async () => {
    const kms = new FakeKms();
    const { keyring } = make(independent, kms, { hedgeAfterMs: 20 });
    const { ciphertext } = await encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 });
    kms.fault('us-east-1', { mode: 'error', name: 'KMSInternalException' });
    for (let i = 0; i < 3; i++) await decrypt(ciphertext, { keyring });
    expect(keyring.healthSnapshot().find((h) => h.region === 'us-east-1')?.breaker).toBe('open');
    kms.fault('us-east-1', { mode: 'ok' });
    await new Promise((r) => setTimeout(r, 220));
    expect(keyring.health.breakerState('us-east-1')).toBe('half-open');
    await decrypt(ciphertext, { keyring });
    await new Promise((r) => setTimeout(r, 20));
    expect(keyring.health.breakerState('us-east-1')).toBe('closed');
  });

  it('all regions down: one bounded, coded failure listing every candidate', async () => {
    const kms = new FakeKms();
    const { keyring } = make(independent, kms, { hedgeAfterMs: 10, deadlineMs: 300 });
    const { ciphertext } = await encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 });
    for (const r of ['us-east-1', 'us-west-2', 'eu-west-1']) kms.fault(r, { mode: 'hang' });
    const t0 = performance.now();
    const err = await decrypt(ciphertext, { keyring }).catch((e) => e);
    expect(performance.now() - t0).toBeLessThan(450);
    expect(err).toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    expect(err.causes.map((c: { region: string }) => c.region).sort()).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
  });

  it('a KMS refusal (not a health problem) fails over without opening the breaker', async () => {
    const kms = new FakeKms();
    const { keyring } = make(independent, kms, { hedgeAfterMs: 50 });
    const { ciphertext } = await encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 });
    kms.fault('us-east-1', { mode: 'error', name: 'AccessDeniedException' });
    for (let i = 0; i < 5; i++) await decrypt(ciphertext, { keyring });
    expect(keyring.health.breakerState('us-east-1')).toBe('closed');
  });
});

describe('MultiRegionKeyring, multi-region keys', () => {
  it('one EDK opens in any replica region; the generator fails over across replicas', async () => {
    const kms = new FakeKms();
    kms.fault('us-east-1', { mode: 'hang' });
    const { keyring } = make(mrk, kms, { hedgeAfterMs: 20 });
    const { ciphertext, warnings } = await encrypt(Buffer.from('mrk'), { keyring, suite: 0x0478 });
    expect(warnings).toEqual([]);
    const edks = parseHeader(ciphertext, limits).encryptedDataKeys;
    expect(edks).toHaveLength(1);
    for (const key of mrk.slice(1)) {
      const { keyring: single } = make([key], kms);
      expect(Buffer.from((await decrypt(ciphertext, { keyring: single })).plaintext).toString()).toBe('mrk');
    }
  });
});
