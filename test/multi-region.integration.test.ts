/**
 * The multi-region keyring against kms-local with three regions, over real HTTP with the real
 * @aws-sdk/client-kms: each fault mode on the primary, a flapping region, all regions down,
 * degraded encrypt under each policy, the circuit breaker opening and closing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { decrypt, encrypt } from '@envelope/core';
import { kmsClientSupplier, kmsOperations } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring, systemClock, type EncryptPolicy } from '@envelope/keyring-multi-region';
import { startKmsLocal, type Fault, type KmsLocal } from '@envelope/kms-local';
import { RecordingClock } from './helpers/recording-clock.js';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
let kms: KmsLocal;
let independent: string[];
let mrk: string[];

beforeAll(async () => {
  kms = await startKmsLocal({ regions: REGIONS, port: 0 });
  const c = (r: string) => new KMSClient({ region: r, endpoint: kms.url, credentials: kms.credentials });
  independent = [];
  for (const r of REGIONS) independent.push((await c(r).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!);
  const primary = (await c('us-east-1').send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
  mrk = [primary];
  for (const r of REGIONS.slice(1))
    mrk.push((await c('us-east-1').send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: r }))).ReplicaKeyMetadata!.Arn!);
});
afterAll(() => kms.close());
beforeEach(() => {
  for (const r of REGIONS) kms.setFault(r, { mode: 'none' });
});

const DEADLINE_MS = 1500;
const CALL_TIMEOUT_MS = 500;

function keyringFor(keys: string[], o: { policy?: EncryptPolicy; health?: HealthRegistry } = {}) {
  return new MultiRegionKeyring({
    keys: keys.map((keyId) => ({ keyId })),
    kms: kmsOperations(kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 1000 })),
    encryptPolicy: o.policy ?? 'all',
    health: o.health ?? new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 300 } }),
    deadlineMs: DEADLINE_MS,
    callTimeoutMs: CALL_TIMEOUT_MS,
    hedgeAfterMs: 40,
  });
}

const pt = Buffer.from('disaster recovery');

describe('multi-region decrypt with each fault mode on the primary', () => {
  const faults: [string, Fault][] = [
    ['blackhole', { mode: 'blackhole' }],
    ['refuse', { mode: 'refuse' }],
    ['error', { mode: 'error', errorRate: 1 }],
    ['throttle', { mode: 'throttle', ratePerSecond: 0 }],
    ['latency', { mode: 'latency', latencyMs: 400 }],
  ];
  for (const keys of ['independent', 'mrk'] as const) {
    for (const [name, fault] of faults) {
      it(`${keys} keys, primary ${name}: every decrypt succeeds within bounds`, async () => {
        // Within bounds: no decrypt ran into its whole deadline (no 1500 ms timer of the keyring's
        // clock fired); the hedge or the failover answered first. Told by the keyring's timers,
        // not by timing it.
        const clock = new RecordingClock();
        const keyring = keyringFor(keys === 'mrk' ? mrk : independent, {
          health: new HealthRegistry({ clock, breaker: { failureThreshold: 3, openMs: 300 } }),
        });
        const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478 });
        kms.setFault('us-east-1', fault);
        for (let i = 0; i < 5; i++) {
          expect(Buffer.from((await decrypt(ciphertext, { keyring })).plaintext).equals(pt)).toBe(true);
        }
        expect(clock.fired(DEADLINE_MS)).toBe(0);
      });
    }
  }
});

describe('breaker, flapping, all down', () => {
  it('the breaker opens after repeated failures and closes once the region recovers', async () => {
    // Real HTTP and real deadlines, but the breaker's cool-down on a clock the test can move:
    // no sleeping for a state, whatever the machine's load.
    let skew = 0;
    const clock = { ...systemClock, now: () => systemClock.now() + skew };
    const health = new HealthRegistry({ clock, breaker: { failureThreshold: 3, openMs: 60_000 } });
    const keyring = keyringFor(independent, { health });
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478 });
    kms.setFault('us-east-1', { mode: 'blackhole' });
    for (let i = 0; i < 4; i++) await decrypt(ciphertext, { keyring });
    expect(health.breakerState('us-east-1')).toBe('open');
    kms.resetStats();
    await decrypt(ciphertext, { keyring });
    expect(kms.stats()['us-east-1']).toBeUndefined(); // skipped while open
    kms.setFault('us-east-1', { mode: 'none' });
    skew += 60_000; // the cool-down passes
    expect(health.breakerState('us-east-1')).toBe('half-open');
    const closed = new Promise<void>((resolve) => health.on('change', (e) => e.region === 'us-east-1' && e.to === 'closed' && resolve()));
    await decrypt(ciphertext, { keyring }); // the probe runs beside the best healthy region
    await closed;
    expect(health.breakerState('us-east-1')).toBe('closed');
  });

  it('a flapping primary: decrypts keep succeeding while it goes up and down', async () => {
    const keyring = keyringFor(independent);
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478 });
    const modes: Fault[] = [
      { mode: 'blackhole' },
      { mode: 'none' },
      { mode: 'error', errorRate: 1 },
      { mode: 'none' },
      { mode: 'refuse' },
      { mode: 'none' },
    ];
    for (let i = 0; i < 18; i++) {
      kms.setFault('us-east-1', modes[i % modes.length]!);
      expect(Buffer.from((await decrypt(ciphertext, { keyring })).plaintext).equals(pt)).toBe(true);
    }
  });

  it('all regions down: one bounded, coded failure with every region', async () => {
    const clock = new RecordingClock();
    const keyring = keyringFor(independent, { health: new HealthRegistry({ clock, breaker: { failureThreshold: 3, openMs: 300 } }) });
    const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478 });
    for (const r of REGIONS) kms.setFault(r, { mode: 'blackhole' });
    const err = await decrypt(ciphertext, { keyring }).catch((e) => e);
    // Bounded by our deadlines: every region's call timer fired, or the whole decrypt's did.
    expect(clock.fired(CALL_TIMEOUT_MS) >= REGIONS.length || clock.fired(DEADLINE_MS) === 1).toBe(true);
    expect(['ENVELOPE_TIMEOUT', 'ENVELOPE_NO_DECRYPTABLE_KEY']).toContain(err.code);
    expect(new Set(err.causes.map((c: { region: string }) => c.region))).toEqual(new Set(REGIONS));
  });
});

describe('degraded encrypt under each policy (independent keys)', () => {
  it('all: a region down fails the encrypt', async () => {
    kms.setFault('eu-west-1', { mode: 'error', errorRate: 1 });
    await expect(encrypt(pt, { keyring: keyringFor(independent, { policy: 'all' }), suite: 0x0478 })).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
  });
  it('primary: a secondary down gives a warned, degraded message that the healthy regions decrypt', async () => {
    kms.setFault('eu-west-1', { mode: 'blackhole' });
    const r = await encrypt(pt, { keyring: keyringFor(independent, { policy: 'primary' }), suite: 0x0478 });
    expect(r.warnings).toMatchObject([{ code: 'DEGRADED_ENCRYPT', details: { missingRegions: ['eu-west-1'] } }]);
    expect(r.messageInfo.encryptedDataKeys).toHaveLength(2);
    kms.setFault('eu-west-1', { mode: 'none' });
    expect(Buffer.from((await decrypt(r.ciphertext, { keyring: keyringFor([independent[1]!]) })).plaintext).equals(pt)).toBe(true);
  });
  it('quorum 2: the primary down still writes a message the others can read', async () => {
    kms.setFault('us-east-1', { mode: 'refuse' });
    const r = await encrypt(pt, { keyring: keyringFor(independent, { policy: { quorum: 2 } }), suite: 0x0478 });
    expect(r.warnings[0]).toMatchObject({ code: 'DEGRADED_ENCRYPT', details: { missingRegions: ['us-east-1'] } });
    expect(Buffer.from((await decrypt(r.ciphertext, { keyring: keyringFor([independent[2]!]) })).plaintext).equals(pt)).toBe(true);
    kms.setFault('us-west-2', { mode: 'refuse' });
    await expect(encrypt(pt, { keyring: keyringFor(independent, { policy: { quorum: 2 } }), suite: 0x0478 })).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
  });
  it('mrk keys: the generator fails over to a replica; no degradation', async () => {
    kms.setFault('us-east-1', { mode: 'blackhole' });
    const r = await encrypt(pt, { keyring: keyringFor(mrk), suite: 0x0478 });
    expect(r.warnings).toEqual([]);
    kms.setFault('us-east-1', { mode: 'none' });
    expect(Buffer.from((await decrypt(r.ciphertext, { keyring: keyringFor([mrk[0]!]) })).plaintext).equals(pt)).toBe(true);
  });
});
