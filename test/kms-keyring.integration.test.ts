/**
 * KMS keyrings against kms-local over real HTTP with the real @aws-sdk/client-kms: multi-region
 * wrapping, MRK replicas, discovery filters, rotation, KMS refusals, and every fault mode ending
 * in a bounded, coded failure.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { decrypt, encrypt, type EnvelopeError } from '@envelope/core';
import { HealthRegistry, KmsDiscoveryKeyring, KmsKeyring, RegionPacer, kmsClientSupplier } from '@envelope/keyring-kms';

/**
 * A pacer and a health registry of the keyring's own: what one fault case teaches (a throttled
 * region's rate, a dead region's open breaker) must not reach the next case through the
 * process-wide ones.
 */
const isolated = () => ({ pacer: new RegionPacer(), health: new HealthRegistry() });
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { RecordingClock } from './helpers/recording-clock.js';

let kms: KmsLocal;
let clients: ReturnType<typeof kmsClientSupplier>;
const keys: Record<string, string> = {};
let mrk: { east: string; west: string; eu: string };

const admin = (region: string) => new KMSClient({ region, endpoint: kms.url, credentials: { ...kms.credentials } });
async function createKey(region: string, multiRegion = false): Promise<string> {
  return (await admin(region).send(new CreateKeyCommand({ MultiRegion: multiRegion }))).KeyMetadata!.Arn!;
}

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2', 'eu-west-1'], port: 0 });
  clients = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 5000 });
  for (const r of kms.regions) keys[r] = await createKey(r);
  const east = await createKey('us-east-1', true);
  const west = (await admin('us-east-1').send(new ReplicateKeyCommand({ KeyId: east, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!
    .Arn!;
  const eu = (await admin('us-east-1').send(new ReplicateKeyCommand({ KeyId: east, ReplicaRegion: 'eu-west-1' }))).ReplicaKeyMetadata!.Arn!;
  mrk = { east, west, eu };
});
afterAll(() => kms.close());
afterEach(() => {
  for (const r of kms.regions) kms.setFault(r, { mode: 'none' });
});

const pt = Buffer.from('kms keyring integration');
const same = (b: Uint8Array) => Buffer.from(b).equals(pt);
const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (e: EnvelopeError) => e,
  );

describe('KmsKeyring against kms-local', () => {
  it('generator in one region plus keys in two more; each region alone decrypts', async () => {
    const keyring = new KmsKeyring({
      clientSupplier: clients,
      generatorKeyId: keys['us-east-1'],
      keyIds: [keys['us-west-2']!, keys['eu-west-1']!],
      grantTokens: ['grant-1'],
    });
    kms.resetStats();
    const { ciphertext, messageInfo } = await encrypt(pt, { keyring, encryptionContext: { app: 'it' } });
    expect(messageInfo.encryptedDataKeys.map((e) => [e.providerId, Buffer.from(e.providerInfo).toString()])).toEqual([
      ['aws-kms', keys['us-east-1']],
      ['aws-kms', keys['us-west-2']],
      ['aws-kms', keys['eu-west-1']],
    ]);
    expect(kms.stats()).toEqual({ 'us-east-1': { GenerateDataKey: 1 }, 'us-west-2': { Encrypt: 1 }, 'eu-west-1': { Encrypt: 1 } });
    for (const r of kms.regions) {
      kms.resetStats();
      const single = new KmsKeyring({ clientSupplier: clients, keyIds: [keys[r]!] });
      expect(same((await decrypt(ciphertext, { keyring: single })).plaintext)).toBe(true);
      expect(kms.stats()).toEqual({ [r]: { Decrypt: 1 } });
    }
  });

  it('the encryption context reaches KMS: a changed context cannot unwrap', async () => {
    const keyring = new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-east-1'] });
    const { ciphertext } = await encrypt(pt, { keyring, encryptionContext: { app: 'it' }, suite: 0x0478 });
    // Rewrite the stored context value in place (same length), so KMS sees a different context.
    const bad = Buffer.from(ciphertext);
    const at = bad.indexOf(Buffer.from('it'), 40);
    bad.write('IT', at);
    const e = await fail(decrypt(bad, { keyring }));
    expect(e).toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
      causes: [{ key: keys['us-east-1'], reason: 'InvalidCiphertextException', region: 'us-east-1' }],
    });
  });

  it('a multi-region key: written in us-east-1, decrypted by the replica in eu-west-1 with its own ARN', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: mrk.east }) });
    kms.resetStats();
    const { plaintext } = await decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: clients, keyIds: [mrk.eu] }) });
    expect(same(plaintext)).toBe(true);
    expect(kms.stats()).toEqual({ 'eu-west-1': { Decrypt: 1 } });
  });

  it('failover inside one keyring: the first region blackholed, the second key decrypts within one deadline', async () => {
    const { ciphertext } = await encrypt(pt, {
      keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-west-2'], keyIds: [keys['eu-west-1']!] }),
    });
    kms.setFault('us-west-2', { mode: 'blackhole' });
    const clock = new RecordingClock();
    const keyring = new KmsKeyring({
      clientSupplier: clients,
      keyIds: [keys['us-west-2']!, keys['eu-west-1']!],
      callTimeoutMs: 300,
      maxRetries: 0,
      clock,
    });
    kms.resetStats();
    expect(same((await decrypt(ciphertext, { keyring })).plaintext)).toBe(true);
    // The blackholed call ended at its own deadline (one 300 ms timer fired), then eu-west-1 answered.
    expect(clock.fired(300)).toBe(1);
    expect(kms.stats()).toEqual({ 'us-west-2': { Decrypt: 1 }, 'eu-west-1': { Decrypt: 1 } });
  });

  it('KMS refusals are told apart: a disabled key (DisabledException), bad credentials', async () => {
    const k = await createKey('us-east-1');
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: k }) });
    await admin('us-east-1').send(new DisableKeyCommand({ KeyId: k }));
    try {
      const e = await fail(decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: clients, keyIds: [k] }) }));
      expect(e.causes).toEqual([expect.objectContaining({ key: k, region: 'us-east-1', reason: 'DisabledException' })]);
      const enc = await fail(encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: k }) }));
      expect(enc).toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE', causes: [{ key: k, reason: 'DisabledException' }] });
    } finally {
      await admin('us-east-1').send(new EnableKeyCommand({ KeyId: k }));
    }
    const wrong = kmsClientSupplier({
      endpoint: kms.url,
      credentials: { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: 'wrong' },
    });
    const e = await fail(decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: wrong, keyIds: [k] }) }));
    expect(e.causes[0]!.reason).toMatch(
      /^(AccessDeniedException|InvalidSignatureException|UnrecognizedClientException|IncompleteSignatureException)$/,
    );
  });

  it('an encrypt with one wrapping region blackholed fails, bounded, naming that key', async () => {
    kms.setFault('eu-west-1', { mode: 'blackhole' });
    const clock = new RecordingClock();
    const keyring = new KmsKeyring({
      clientSupplier: clients,
      generatorKeyId: keys['us-east-1'],
      keyIds: [keys['us-west-2']!, keys['eu-west-1']!],
      callTimeoutMs: 300,
      maxRetries: 0,
      clock,
    });
    const e = await fail(encrypt(pt, { keyring }));
    expect(clock.fired(300)).toBe(1); // bounded by the call's deadline, not the SDK's or the OS's
    expect(e).toMatchObject({
      code: 'ENVELOPE_TIMEOUT',
      causes: [{ key: keys['eu-west-1'], region: 'eu-west-1', reason: 'TimeoutError' }],
    });
  });
});

describe('KmsDiscoveryKeyring against kms-local', () => {
  it('with a filter: the right account decrypts; another account, or a region not listed, is not tried', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-west-2'] }) });
    const ok = new KmsDiscoveryKeyring({
      clientSupplier: clients,
      regions: ['us-west-2'],
      discoveryFilter: { partition: 'aws', accountIds: [kms.accountId] },
    });
    expect(same((await decrypt(ciphertext, { keyring: ok })).plaintext)).toBe(true);
    kms.resetStats();
    const other = new KmsDiscoveryKeyring({
      clientSupplier: clients,
      regions: ['us-west-2'],
      discoveryFilter: { partition: 'aws', accountIds: ['999999999999'] },
    });
    await expect(decrypt(ciphertext, { keyring: other })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const otherPartition = new KmsDiscoveryKeyring({
      clientSupplier: clients,
      discoveryFilter: { partition: 'aws-cn', accountIds: [kms.accountId] },
    });
    await expect(decrypt(ciphertext, { keyring: otherPartition })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const wrongRegion = new KmsDiscoveryKeyring({ clientSupplier: clients, regions: ['eu-west-1'] });
    await expect(decrypt(ciphertext, { keyring: wrongRegion })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect(kms.stats()).toEqual({});
  });

  it('an MRK named in us-east-1 is decrypted by the replica in the listed region', async () => {
    const m = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: mrk.east }) });
    kms.resetStats();
    expect(
      same(
        (await decrypt(m.ciphertext, { keyring: new KmsDiscoveryKeyring({ clientSupplier: clients, regions: ['eu-west-1'] }) })).plaintext,
      ),
    ).toBe(true);
    expect(kms.stats()).toEqual({ 'eu-west-1': { Decrypt: 1 } });
  });
});

describe('rotation', () => {
  it('messages written before RotateKeyOnDemand keep decrypting', async () => {
    const keyring = new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['eu-west-1'] });
    const before = await encrypt(pt, { keyring });
    await admin('eu-west-1').send(new RotateKeyOnDemandCommand({ KeyId: keys['eu-west-1'] }));
    const after = await encrypt(pt, { keyring });
    for (const m of [before, after]) expect(same((await decrypt(m.ciphertext, { keyring })).plaintext)).toBe(true);
    const discovery = new KmsDiscoveryKeyring({ clientSupplier: clients });
    expect(same((await decrypt(before.ciphertext, { keyring: discovery })).plaintext)).toBe(true);
  });
});

describe('every kms-local fault gives a bounded, coded failure', () => {
  const callTimeoutMs = 400;
  const maxRetries = 2;
  const maxDelayMs = 20;
  // The whole budget of one decrypt: every attempt's deadline plus every backoff.
  // Bounded: a fault that never answers ends each attempt at our per-call deadline (a timer of
  // callTimeoutMs fires), one that answers ends it with the answer (none fires), and the attempts
  // are counted: evidence from the keyring's own timers, not a bound on the wall time it took.
  const deadlined = new Set(['blackhole', 'latency']);
  const cases = [
    // A deadline is ENVELOPE_TIMEOUT and throttling ENVELOPE_THROTTLED (issue 17.1), still listing the cause.
    { fault: { mode: 'blackhole' as const }, reason: /^TimeoutError$/, attempts: 3, code: 'ENVELOPE_TIMEOUT' },
    { fault: { mode: 'latency' as const, latencyMs: 5_000 }, reason: /^TimeoutError$/, attempts: 3, code: 'ENVELOPE_TIMEOUT' },
    { fault: { mode: 'refuse' as const }, reason: /^(ECONNRESET|EPIPE)$/, attempts: 3, code: 'ENVELOPE_NO_DECRYPTABLE_KEY' },
    { fault: { mode: 'error' as const, errorRate: 1 }, reason: /^KMSInternalException$/, attempts: 3, code: 'ENVELOPE_NO_DECRYPTABLE_KEY' },
    { fault: { mode: 'throttle' as const, ratePerSecond: 0 }, reason: /^ThrottlingException$/, attempts: 3, code: 'ENVELOPE_THROTTLED' },
  ];
  for (const c of cases) {
    it(`${c.fault.mode}: fails within the deadline, retried, with the key, region and reason`, async () => {
      const { ciphertext } = await encrypt(pt, {
        keyring: new KmsKeyring({ ...isolated(), clientSupplier: clients, generatorKeyId: keys['us-west-2'] }),
      });
      const clock = new RecordingClock();
      const keyring = new KmsKeyring({
        ...isolated(),
        clientSupplier: clients,
        keyIds: [keys['us-west-2']!],
        callTimeoutMs,
        maxRetries,
        baseDelayMs: 10,
        maxDelayMs,
        clock,
      });
      kms.setFault('us-west-2', c.fault);
      kms.resetStats();
      const err = await fail(decrypt(ciphertext, { keyring }));
      expect(err.code).toBe(c.code);
      expect(err.causes).toHaveLength(1);
      expect(err.causes[0]).toMatchObject({ key: keys['us-west-2'], region: 'us-west-2' });
      expect(err.causes[0]!.reason).toMatch(c.reason);
      expect(clock.fired(callTimeoutMs)).toBe(deadlined.has(c.fault.mode) ? c.attempts : 0);
      if (c.fault.mode !== 'refuse') expect(kms.stats()['us-west-2']?.Decrypt).toBe(c.attempts);
    });
  }

  it('blackhole, one attempt: fails at the per-call deadline, not at the SDK’s or the OS’s', async () => {
    const { ciphertext } = await encrypt(pt, {
      keyring: new KmsKeyring({ ...isolated(), clientSupplier: clients, generatorKeyId: keys['us-west-2'] }),
    });
    kms.setFault('us-west-2', { mode: 'blackhole' });
    const clock = new RecordingClock();
    const keyring = new KmsKeyring({
      ...isolated(),
      clientSupplier: clients,
      keyIds: [keys['us-west-2']!],
      callTimeoutMs: 250,
      maxRetries: 0,
      clock,
    });
    const err = await fail(decrypt(ciphertext, { keyring }));
    expect(err.causes[0]!.reason).toBe('TimeoutError');
    expect(clock.fired(250)).toBe(1); // our deadline ended it (the SDK's requestTimeout is 5 s)
  });

  it('latency under the deadline is just slower', async () => {
    const { ciphertext } = await encrypt(pt, {
      keyring: new KmsKeyring({ ...isolated(), clientSupplier: clients, generatorKeyId: keys['us-west-2'] }),
    });
    kms.setFault('us-west-2', { mode: 'latency', latencyMs: 100 });
    kms.resetStats();
    const clock = new RecordingClock();
    const keyring = new KmsKeyring({ ...isolated(), clientSupplier: clients, keyIds: [keys['us-west-2']!], callTimeoutMs: 1000, clock });
    expect(same((await decrypt(ciphertext, { keyring })).plaintext)).toBe(true);
    expect(clock.fired(1000)).toBe(0); // answered before the deadline, first time
    expect(kms.stats()['us-west-2']!.Decrypt).toBe(1);
  });

  it('throttling that clears: retried with backoff and succeeds', async () => {
    const { ciphertext } = await encrypt(pt, {
      keyring: new KmsKeyring({ ...isolated(), clientSupplier: clients, generatorKeyId: keys['us-west-2'] }),
    });
    kms.setFault('us-west-2', { mode: 'throttle', ratePerSecond: 0 });
    kms.resetStats();
    // The throttling clears while the first retry waits out its backoff (the timers under 1 s).
    const clock = new RecordingClock();
    clock.onTimer = (ms) => {
      if (ms <= 200) kms.setFault('us-west-2', { mode: 'none' });
    };
    const keyring = new KmsKeyring({
      clock,
      ...isolated(),
      clientSupplier: clients,
      keyIds: [keys['us-west-2']!],
      maxRetries: 6,
      baseDelayMs: 50,
      maxDelayMs: 200,
    });
    expect(same((await decrypt(ciphertext, { keyring })).plaintext)).toBe(true);
    expect(kms.stats()['us-west-2']!.Decrypt).toBeGreaterThan(1);
  });

  it('the caller’s AbortSignal ends a call to a blackholed region at once', async () => {
    const { ciphertext } = await encrypt(pt, {
      keyring: new KmsKeyring({ ...isolated(), clientSupplier: clients, generatorKeyId: keys['us-west-2'] }),
    });
    kms.setFault('us-west-2', { mode: 'blackhole' });
    const ac = new AbortController();
    // The caller gives up once the call is under way (its 10 s deadline is set).
    const clock = new RecordingClock();
    clock.onTimer = (ms) => {
      if (ms === 10_000) queueMicrotask(() => ac.abort());
    };
    await expect(
      decrypt(ciphertext, {
        keyring: new KmsKeyring({ ...isolated(), clientSupplier: clients, keyIds: [keys['us-west-2']!], callTimeoutMs: 10_000, clock }),
        signal: ac.signal,
      }),
    ).rejects.toMatchObject({
      code: 'ENVELOPE_ABORTED',
    });
    expect(clock.fired(10_000)).toBe(0); // the abort ended it, not the deadline
  });
});
