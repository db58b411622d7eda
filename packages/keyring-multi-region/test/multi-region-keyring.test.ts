/**
 * MultiRegionKeyring on an in-memory KMS and a manual clock: encrypt policies, degraded
 * warnings, hedged decrypt, breakers opening, half-opening and closing, fail-fast calls to an
 * open region (decrypt and every encrypt policy, and a batch), deadlines as ENVELOPE_TIMEOUT,
 * throttling never opening a breaker. No sleeps, no wall-clock bounds: time is the clock's.
 */
import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, parseHeader, type EnvelopeError } from '@envelope/core';
import { ManualClock, RegionPacer } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring, type MultiRegionEvent, type MultiRegionKeyringOptions } from '../src/index.js';
import { FakeKms } from './fake-kms.js';

const acct = '111122223333';
const arn = (region: string, id: string) => `arn:aws:kms:${region}:${acct}:key/${id}`;
const independent = [arn('us-east-1', 'k-east'), arn('us-west-2', 'k-west'), arn('eu-west-1', 'k-eu')];
const mrk = ['us-east-1', 'us-west-2', 'eu-west-1'].map((r) => arn(r, 'mrk-0123456789abcdef0123456789abcdef'));
const limits = { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 };
const text = (b: Uint8Array) => Buffer.from(b).toString();
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (e: EnvelopeError) => e,
  );

function setup(openMs = 200) {
  const clock = new ManualClock();
  const kms = new FakeKms(clock);
  const health = new HealthRegistry({ clock, breaker: { failureThreshold: 3, openMs } });
  const make = (keys: string[], extra: Partial<MultiRegionKeyringOptions> = {}) => {
    const events: MultiRegionEvent[] = [];
    const keyring = new MultiRegionKeyring({
      keys: keys.map((keyId) => ({ keyId })),
      kms,
      health,
      deadlineMs: 1000,
      onEvent: (e) => events.push(e),
      ...extra,
    });
    return { keyring, events };
  };
  return { clock, kms, health, make };
}

describe('MultiRegionKeyring, independent keys', () => {
  it('wraps the data key in every region, concurrently', async () => {
    const { clock, kms, make } = setup();
    for (const r of ['us-west-2', 'eu-west-1']) kms.fault(r, { mode: 'ok', latencyMs: 50 });
    const { keyring, events } = make(independent);
    const { ciphertext, warnings } = await clock.run(encrypt(Buffer.from('hello'), { keyring, suite: 0x0478 }));
    // Both Encrypt calls started before either finished: they ran side by side.
    expect(kms.calls.slice(2, 4).sort()).toEqual(['Encrypt:eu-west-1', 'Encrypt:us-west-2']);
    expect(clock.now()).toBe(2 + 50);
    expect(events.filter((e) => e.type === 'call' && e.operation === 'Encrypt')).toHaveLength(2);
    expect(warnings).toEqual([]);
    const edks = parseHeader(ciphertext, limits).encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString());
    expect(edks).toEqual(independent);
    expect(kms.calls[0]).toBe('GenerateDataKey:us-east-1');
  });

  it('decrypts with each region alone', async () => {
    const { clock, make } = setup();
    const { keyring } = make(independent);
    const { ciphertext } = await clock.run(encrypt(Buffer.from('hello'), { keyring, suite: 0x0478 }));
    for (const key of independent) {
      const { keyring: single } = make([key]);
      expect(text((await clock.run(decrypt(ciphertext, { keyring: single }))).plaintext)).toBe('hello');
    }
  });

  it('encrypt policy all: one region down fails the encrypt with every cause', async () => {
    const { clock, kms, make } = setup();
    kms.fault('eu-west-1', { mode: 'error', name: 'KMSInternalException' });
    const { keyring } = make(independent, { encryptPolicy: 'all' });
    await expect(clock.run(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 }))).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
      causes: [{ region: 'eu-west-1', reason: 'KMSInternalException' }],
    });
  });

  it('encrypt policy primary: a secondary down gives a degraded message whose warning lists the missing regions', async () => {
    const { clock, kms, make } = setup();
    kms.fault('eu-west-1', { mode: 'error', name: 'KMSInternalException' });
    kms.fault('us-west-2', { mode: 'error', name: 'ECONNREFUSED', code: 'ECONNREFUSED' });
    const { keyring, events } = make(independent, { encryptPolicy: 'primary' });
    const { warnings } = await clock.run(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 }));
    expect(warnings).toEqual([
      expect.objectContaining({
        source: 'aws-kms-multi-region',
        code: 'DEGRADED_ENCRYPT',
        message: expect.stringContaining('missing regions us-west-2,eu-west-1'),
        details: expect.objectContaining({ missingRegions: ['us-west-2', 'eu-west-1'], wrappedRegions: ['us-east-1'] }),
      }),
    ]);
    expect(events.find((e) => e.type === 'encrypt')).toMatchObject({ outcome: 'degraded', missingRegions: ['us-west-2', 'eu-west-1'] });
  });

  it('encrypt policy primary: the primary down fails', async () => {
    const { clock, kms, make } = setup();
    kms.fault('us-east-1', { mode: 'error', name: 'KMSInternalException' });
    const { keyring } = make(independent, { encryptPolicy: 'primary' });
    await expect(clock.run(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 }))).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
  });

  it('encrypt policy quorum: the primary down, the data key is made locally and wrapped by the quorum', async () => {
    const { clock, kms, make } = setup();
    kms.fault('us-east-1', { mode: 'hang' });
    const { keyring } = make(independent, { encryptPolicy: { quorum: 2 }, callTimeoutMs: 100 });
    const { ciphertext, warnings } = await clock.run(encrypt(Buffer.from('quorum'), { keyring, suite: 0x0478 }));
    expect(warnings[0]).toMatchObject({ code: 'DEGRADED_ENCRYPT', details: { missingRegions: ['us-east-1'] } });
    expect(clock.now()).toBe(100 + 2); // the primary's call timeout, then the wraps
    const { keyring: west } = make([independent[1]!]);
    expect(text((await clock.run(decrypt(ciphertext, { keyring: west }))).plaintext)).toBe('quorum');
    kms.fault('eu-west-1', { mode: 'error', name: 'KMSInternalException' });
    // Below the quorum; one of the causes is the primary's timeout, so the code says so.
    await expect(clock.run(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 }))).rejects.toMatchObject({
      code: 'ENVELOPE_TIMEOUT',
      causes: [
        { region: 'us-east-1', reason: 'TimeoutError' },
        { region: 'eu-west-1', reason: 'KMSInternalException' },
      ],
    });
  });

  it('a deadline is ENVELOPE_TIMEOUT, listing each key, region and reason', async () => {
    const { clock, kms, make } = setup();
    kms.fault('eu-west-1', { mode: 'hang' });
    const { keyring } = make(independent, { encryptPolicy: 'all', deadlineMs: 300 });
    const e = await failure(clock.run(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 })));
    expect(e.code).toBe('ENVELOPE_TIMEOUT');
    expect(e.causes).toEqual([expect.objectContaining({ key: independent[2], region: 'eu-west-1', reason: 'TimeoutError' })]);
    expect(clock.now()).toBe(300);
  });
});

describe('fail fast: once a region’s breaker is open, calls to it fail at once', () => {
  it('a batch of 40 encrypts against a blackholed region: only the first calls wait out a deadline', async () => {
    const { clock, kms, health, make } = setup();
    kms.fault('eu-west-1', { mode: 'hang' });
    const { keyring, events } = make(independent, { encryptPolicy: 'primary', callTimeoutMs: 500 });
    const started = clock.now();
    for (let i = 0; i < 40; i++) {
      const { warnings } = await clock.run(encrypt(Buffer.from(`file ${i}`), { keyring, suite: 0x0478 }));
      expect(warnings[0]).toMatchObject({ details: { missingRegions: ['eu-west-1'] } });
    }
    // Three timeouts open the breaker; the other 37 files do not wait (the open breaker's
    // cool-down of 200 ms lets one probe through now and then, which waits once more).
    expect(kms.started('eu-west-1')).toBeLessThanOrEqual(3 + 2);
    expect(clock.now() - started).toBeLessThan(6 * 500);
    expect(events.filter((e) => e.type === 'call' && e.outcome === 'skipped').length).toBeGreaterThanOrEqual(35);
    expect(health.regionHealth('eu-west-1')).toMatchObject({ breaker: 'open', lastError: 'TimeoutError' });
  });

  it('every encrypt policy fails fast on an open region: all fails at once, primary and quorum skip it', async () => {
    for (const policy of ['all', 'primary', { quorum: 2 }] as const) {
      const { clock, kms, health, make } = setup();
      for (let i = 0; i < 3; i++) health.recordFailure('eu-west-1', 'ECONNREFUSED');
      const { keyring } = make(independent, { encryptPolicy: policy });
      const t0 = clock.now();
      const r = await clock.run(encrypt(Buffer.from('x'), { keyring, suite: 0x0478 })).catch((e: EnvelopeError) => e);
      expect(kms.started('eu-west-1'), JSON.stringify(policy)).toBe(0);
      expect(clock.now() - t0).toBe(2 + 2); // generate, then wrap: no deadline waited out
      if (policy === 'all')
        expect(r).toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE', causes: [{ region: 'eu-west-1', reason: 'CircuitOpen' }] });
      else expect(r).toMatchObject({ warnings: [{ details: { missingRegions: ['eu-west-1'] } }] });
    }
  });

  it('a decrypt skips an open region at once and lists it; all regions open fails at once', async () => {
    const { clock, kms, health, make } = setup();
    const { keyring } = make(independent);
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    for (let i = 0; i < 3; i++) health.recordFailure('us-east-1', 'ENOTFOUND');
    const before = kms.started('us-east-1');
    expect(text((await clock.run(decrypt(ciphertext, { keyring }))).plaintext)).toBe('dr');
    expect(kms.started('us-east-1')).toBe(before);
    for (const r of ['us-west-2', 'eu-west-1']) for (let i = 0; i < 3; i++) health.recordFailure(r, 'ECONNRESET');
    const t0 = clock.now();
    const e = await failure(clock.run(decrypt(ciphertext, { keyring })));
    expect(clock.now()).toBe(t0);
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes.map((c) => c.reason)).toEqual(['CircuitOpen', 'CircuitOpen', 'CircuitOpen']);
    expect(e.message).toMatch(/us-east-1 \(us-east-1\)|circuit open|CircuitOpen/);
  });
});

describe('MultiRegionKeyring, hedged decrypt', () => {
  it('a blackholed primary is hedged around after the hedge delay, then skipped once its breaker opens', async () => {
    const { clock, kms, make } = setup();
    const { keyring, events } = make(independent, { hedgeAfterMs: 30 });
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    kms.fault('us-east-1', { mode: 'hang' });
    for (let i = 0; i < 6; i++) {
      const t0 = clock.now();
      expect(text((await clock.run(decrypt(ciphertext, { keyring }))).plaintext)).toBe('dr');
      // Bounded by the hedge delay plus the other region's answer, not by the blackhole.
      expect(clock.now() - t0).toBeLessThanOrEqual(30 + 2);
    }
    expect(keyring.healthSnapshot().find((h) => h.region === 'us-east-1')).toMatchObject({ breaker: 'open', lastError: 'slow' });
    const decrypts = events.filter((e) => e.type === 'decrypt');
    expect(decrypts.slice(0, 3).every((e) => e.type === 'decrypt' && e.failover)).toBe(true);
    // Once open, the primary is not called: the last decrypt went straight to a healthy region.
    expect(kms.started('us-east-1')).toBe(1 + 3);
    expect(decrypts.at(-1)).not.toMatchObject({ region: 'us-east-1' });
  });

  it('the breaker half-opens after the cool-down (clock time) and closes when the region recovers', async () => {
    const { clock, kms, make } = setup();
    const { keyring } = make(independent, { hedgeAfterMs: 20 });
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    kms.fault('us-east-1', { mode: 'error', name: 'KMSInternalException' });
    for (let i = 0; i < 3; i++) await clock.run(decrypt(ciphertext, { keyring }));
    expect(keyring.health.breakerState('us-east-1')).toBe('open');
    kms.fault('us-east-1', { mode: 'ok' });
    const wait = keyring.health.regionHealth('us-east-1').retryInMs;
    expect(wait).toBeGreaterThan(150);
    await clock.advance(wait - 1);
    expect(keyring.health.breakerState('us-east-1')).toBe('open');
    await clock.advance(1);
    expect(keyring.health.breakerState('us-east-1')).toBe('half-open');
    await clock.run(decrypt(ciphertext, { keyring })); // the probe runs beside the best healthy region
    await clock.advance(2); // the probe's answer
    expect(keyring.health.breakerState('us-east-1')).toBe('closed');
  });

  it('all regions silent: ENVELOPE_TIMEOUT at the deadline, listing every region', async () => {
    const { clock, kms, make } = setup();
    const { keyring } = make(independent, { hedgeAfterMs: 10, deadlineMs: 300 });
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    for (const r of ['us-east-1', 'us-west-2', 'eu-west-1']) kms.fault(r, { mode: 'hang' });
    const t0 = clock.now();
    const err = await failure(clock.run(decrypt(ciphertext, { keyring })));
    expect(clock.now() - t0).toBe(300);
    expect(err).toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    expect(err.causes.map((c) => c.region).sort()).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
    expect(err.causes.every((c) => c.reason === 'TimeoutError')).toBe(true);
  });

  it('a KMS refusal (not a health problem) fails over without opening the breaker', async () => {
    const { clock, kms, make } = setup();
    const { keyring } = make(independent, { hedgeAfterMs: 50 });
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    kms.fault('us-east-1', { mode: 'error', name: 'AccessDeniedException' });
    for (let i = 0; i < 5; i++) await clock.run(decrypt(ciphertext, { keyring }));
    expect(keyring.health.regionHealth('us-east-1')).toMatchObject({ breaker: 'closed', failures: 0 });
  });

  it('throttling never opens a breaker; with the other regions open, a throttled survivor gives ENVELOPE_THROTTLED', async () => {
    const { clock, kms, health, make } = setup(60_000);
    const pacer = new RegionPacer({ clock });
    const { keyring } = make(independent.slice(0, 2), { hedgeAfterMs: 50, pacer, maxThrottleRetries: 0 });
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    for (let i = 0; i < 3; i++) health.recordFailure('us-east-1', 'TimeoutError');
    kms.fault('us-west-2', { mode: 'error', name: 'ThrottlingException' });
    for (let i = 0; i < 8; i++) {
      const e = await failure(clock.run(decrypt(ciphertext, { keyring })));
      expect(e.code).toBe('ENVELOPE_THROTTLED');
      expect(e.causes.map((c) => [c.region, c.reason]).sort()).toEqual([
        ['us-east-1', 'CircuitOpen'],
        ['us-west-2', expect.stringMatching(/^(ThrottlingException|Throttled)$/)],
      ]);
    }
    expect(health.regionHealth('us-west-2')).toMatchObject({ breaker: 'closed', failures: 0 });
    expect(pacer.snapshot().find((p) => p.region === 'us-west-2')).toMatchObject({ learned: true });
  });

  it('a forged header with many EDKs for one key costs one call per configured region (15.11)', async () => {
    const { clock, kms, make } = setup();
    const { keyring } = make(independent);
    const { ciphertext } = await clock.run(encrypt(Buffer.from('dr'), { keyring, suite: 0x0478 }));
    const h = parseHeader(ciphertext, limits);
    const forged = Array.from({ length: 50 }, () => ({ ...h.encryptedDataKeys[0]!, ciphertext: new Uint8Array(16) }));
    const before = kms.calls.length;
    const { decryptPairs } = await import('../src/decrypt.js');
    const pairs = decryptPairs(keyring.keys, [...forged, ...h.encryptedDataKeys]);
    expect([...pairs.keys()].map((k) => k.region)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
    expect(kms.calls.length).toBe(before);
  });
});

describe('MultiRegionKeyring, multi-region keys', () => {
  it('one EDK opens in any replica region; the generator fails over across replicas', async () => {
    const { clock, kms, make } = setup();
    kms.fault('us-east-1', { mode: 'hang' });
    const { keyring } = make(mrk, { hedgeAfterMs: 20 });
    const { ciphertext, warnings } = await clock.run(encrypt(Buffer.from('mrk'), { keyring, suite: 0x0478 }));
    expect(warnings).toEqual([]);
    const edks = parseHeader(ciphertext, limits).encryptedDataKeys;
    expect(edks).toHaveLength(1);
    for (const key of mrk.slice(1)) {
      const { keyring: single } = make([key]);
      expect(text((await clock.run(decrypt(ciphertext, { keyring: single }))).plaintext)).toBe('mrk');
    }
  });
});
