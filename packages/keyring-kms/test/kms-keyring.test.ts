/**
 * Keyring logic with aws-sdk-client-mock (no network): filters, MRK matching, key-id checks,
 * partial failures, error reasons, retries with a fake clock, buffers wiped.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DecryptionMaterials, EncryptionMaterials, SUITES, type EncryptedDataKey } from '@envelope/core';
import { KmsDiscoveryKeyring, KmsKeyring, Retrier, RetryBudget, fromSdkClient, mrkMatch, parseArn } from '../src/index.js';

const suite = SUITES.get(0x0478)!;
const kmsMock = mockClient(KMSClient);
const clients = () => fromSdkClient(new KMSClient({ region: 'us-east-1' }));
const supplier = () => clients();
const arn = (region: string, id: string, account = '111122223333') => `arn:aws:kms:${region}:${account}:key/${id}`;
const edk = (keyArn: string, ct = 'ct'): EncryptedDataKey => ({ providerId: 'aws-kms', providerInfo: Buffer.from(keyArn), ciphertext: Buffer.from(ct) });
const dm = (ec = { a: 'b' }) => new DecryptionMaterials({ suite, encryptionContext: ec });
const named = (name: string, status = 400) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

beforeEach(() => kmsMock.reset());

describe('ARNs and MRK matching', () => {
  it('parses key and alias ARNs and rejects others', () => {
    expect(parseArn(arn('us-east-1', 'k'))).toMatchObject({ region: 'us-east-1', resourceType: 'key', resourceId: 'k', multiRegion: false });
    expect(parseArn('arn:aws:kms:us-east-1:1:alias/x')).toMatchObject({ resourceType: 'alias' });
    for (const bad of ['k', 'arn:aws:s3:us-east-1:1:key/k', 'arn:aws:kms::1:key/k', 'arn:aws:kms:us-east-1:1:key/']) expect(parseArn(bad)).toBeUndefined();
  });
  it('an mrk matches its replicas in any region; other keys only themselves', () => {
    expect(mrkMatch(arn('us-east-1', 'mrk-1'), arn('eu-west-1', 'mrk-1'))).toBe(true);
    expect(mrkMatch(arn('us-east-1', 'mrk-1'), arn('eu-west-1', 'mrk-1', '999'))).toBe(false);
    expect(mrkMatch(arn('us-east-1', 'k'), arn('eu-west-1', 'k'))).toBe(false);
  });
});

describe('KmsKeyring', () => {
  it('encrypt: GenerateDataKey on the generator, Encrypt on each key; context and grant tokens on every call; SDK buffer wiped', async () => {
    const sdkPlaintext = new Uint8Array(32).fill(9);
    kmsMock.on(GenerateDataKeyCommand).resolves({ Plaintext: sdkPlaintext, CiphertextBlob: Buffer.from('g'), KeyId: arn('us-east-1', 'gen') });
    kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('e'), KeyId: arn('us-west-2', 'k2') });
    const k = new KmsKeyring({ clientSupplier: supplier, generatorKeyId: arn('us-east-1', 'gen'), keyIds: [arn('us-west-2', 'k2')], grantTokens: ['gt'] });
    const m = new EncryptionMaterials({ suite, encryptionContext: { a: 'b' } });
    await k.onEncrypt(m);
    expect(m.encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString())).toEqual([arn('us-east-1', 'gen'), arn('us-west-2', 'k2')]);
    expect(m.getDataKey().every((x) => x === 9)).toBe(true);
    expect(sdkPlaintext.every((x) => x === 0)).toBe(true);
    const g = kmsMock.commandCalls(GenerateDataKeyCommand)[0]!.args[0].input;
    const e = kmsMock.commandCalls(EncryptCommand)[0]!.args[0].input;
    expect(g).toMatchObject({ KeyId: arn('us-east-1', 'gen'), NumberOfBytes: 32, EncryptionContext: { a: 'b' }, GrantTokens: ['gt'] });
    expect(e).toMatchObject({ KeyId: arn('us-west-2', 'k2'), EncryptionContext: { a: 'b' }, GrantTokens: ['gt'] });
  });

  it('decrypt tries only EDKs whose ARN it was configured with; an mrk replica is called with the configured ARN', async () => {
    kmsMock.on(DecryptCommand).callsFake((input) => ({ Plaintext: new Uint8Array(32).fill(1), KeyId: input.KeyId }));
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('eu-west-1', 'mrk-abc')] });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'other')), edk(arn('us-east-1', 'mrk-abc'))]);
    expect(m.hasDataKey).toBe(true);
    const calls = kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([expect.objectContaining({ KeyId: arn('eu-west-1', 'mrk-abc'), EncryptionContext: { a: 'b' } })]);
  });

  it('a KeyId mismatch in the Decrypt response is refused', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: new Uint8Array(32), KeyId: arn('us-east-1', 'evil') });
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('us-east-1', 'k')] });
    await expect(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))])).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY', causes: [{ reason: 'KeyIdMismatch' }] });
  });

  it('partial failure: the first key fails, the second succeeds', async () => {
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'a') }).rejects(named('AccessDeniedException'));
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'b') }).resolves({ Plaintext: new Uint8Array(32).fill(2), KeyId: arn('us-east-1', 'b') });
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('us-east-1', 'a'), arn('us-east-1', 'b')] });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'a')), edk(arn('us-east-1', 'b'))]);
    expect(m.getDataKey().every((x) => x === 2)).toBe(true);
  });

  it('all failing: one coded error telling AccessDenied, Disabled, NotFound and InvalidCiphertext apart', async () => {
    const reasons = ['AccessDeniedException', 'DisabledException', 'NotFoundException', 'InvalidCiphertextException'];
    reasons.forEach((r, i) => kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', `k${i}`) }).rejects(named(r)));
    const keys = reasons.map((_, i) => arn('us-east-1', `k${i}`));
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: keys, maxRetries: 0 });
    const err = await k.onDecrypt(dm(), keys.map((x) => edk(x))).catch((e) => e);
    expect(err.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(err.causes.map((c: { reason: string; key: string; region: string }) => [c.reason, c.key, c.region])).toEqual(reasons.map((r, i) => [r, keys[i], 'us-east-1']));
  });

  it('aliases may encrypt but are never matched on decrypt', async () => {
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: ['arn:aws:kms:us-east-1:111122223333:alias/x'] });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'x'))]);
    expect(m.hasDataKey).toBe(false);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });
});

describe('KmsDiscoveryKeyring', () => {
  it('filters by partition and account, by region for single-region keys; rewrites an mrk to a listed region', async () => {
    kmsMock.on(DecryptCommand).callsFake((input) => ({ Plaintext: new Uint8Array(32), KeyId: input.KeyId }));
    const k = new KmsDiscoveryKeyring({ clientSupplier: supplier, regions: ['us-west-2'], discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] } });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-west-2', 'x', '999')), edk(arn('us-east-1', 'single')), edk(arn('us-east-1', 'mrk-9'))]);
    expect(m.hasDataKey).toBe(true);
    expect(kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input.KeyId)).toEqual([arn('us-west-2', 'mrk-9')]);
  });
  it('cannot encrypt; an invalid ARN is a listed cause', async () => {
    const k = new KmsDiscoveryKeyring({ clientSupplier: supplier, regions: ['us-east-1'] });
    await expect(k.onEncrypt()).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    await expect(k.onDecrypt(dm(), [{ providerId: 'aws-kms', providerInfo: Buffer.from('not-an-arn'), ciphertext: Buffer.from('x') }])).rejects.toMatchObject({
      causes: [{ reason: 'InvalidArn' }],
    });
  });
});

describe('retries with backoff and full jitter (fake clock)', () => {
  function fakeClock() {
    const sleeps: number[] = [];
    let now = 0;
    return { sleeps, clock: { now: () => now, random: () => 0.5, sleep: async (ms: number) => { sleeps.push(ms); now += ms; } } };
  }

  it('retries throttling and 5xx, not AccessDenied; delays within min(max, base·2^n)', async () => {
    kmsMock
      .on(DecryptCommand)
      .rejectsOnce(named('ThrottlingException'))
      .rejectsOnce(named('KMSInternalException', 500))
      .resolves({ Plaintext: new Uint8Array(32), KeyId: arn('us-east-1', 'k') });
    const { sleeps, clock } = fakeClock();
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('us-east-1', 'k')], maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, clock });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'k'))]);
    expect(m.hasDataKey).toBe(true);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]); // random 0.5 × 100·2^0, 0.5 × 100·2^1

    kmsMock.reset();
    kmsMock.on(DecryptCommand).rejects(named('AccessDeniedException'));
    await expect(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))])).rejects.toMatchObject({ causes: [{ reason: 'AccessDeniedException' }] });
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
  });

  it('gives up after maxRetries', async () => {
    kmsMock.on(DecryptCommand).rejects(named('ThrottlingException'));
    const { sleeps, clock } = fakeClock();
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('us-east-1', 'k')], maxRetries: 2, clock });
    await expect(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))])).rejects.toMatchObject({ causes: [{ reason: 'ThrottlingException' }] });
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('the retry budget caps retries across calls', () => {
    let now = 0;
    const b = new RetryBudget(0.1, 0, () => now);
    const granted = [];
    for (let i = 0; i < 100; i++) {
      b.onCall();
      granted.push(b.tryRetry());
    }
    // 1 initial token + 0.1 per call ≈ 11 retries for 100 calls.
    expect(granted.filter(Boolean).length).toBeGreaterThanOrEqual(10);
    expect(granted.filter(Boolean).length).toBeLessThanOrEqual(12);
    now += 0;
  });

  it('full jitter stays within [0, min(max, base·2^attempt))', () => {
    for (const r of [0, 0.25, 0.999]) {
      const t = new Retrier({ baseDelayMs: 100, maxDelayMs: 500, clock: { now: () => 0, random: () => r, sleep: async () => {} } });
      expect(t.delay(0)).toBeCloseTo(100 * r);
      expect(t.delay(3)).toBeCloseTo(500 * r);
    }
  });

  it('a per-call deadline ends a call that never answers, and the caller signal aborts', async () => {
    kmsMock.on(DecryptCommand).callsFake(() => new Promise(() => {}));
    const k = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 50, maxRetries: 0 });
    const t0 = performance.now();
    await expect(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))])).rejects.toMatchObject({ causes: [{ reason: 'ENVELOPE_TIMEOUT' }] });
    expect(performance.now() - t0).toBeLessThan(1000);
    const ac = new AbortController();
    const p = new KmsKeyring({ clientSupplier: supplier, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 10_000 }).onDecrypt(dm(), [edk(arn('us-east-1', 'k'))], { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
  });
});
