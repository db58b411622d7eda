/** KmsDiscoveryKeyring with aws-sdk-client-mock: filters, regions, MRK rewrite, failures. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { EnvelopeError } from '@envelope/core';
import { KmsDiscoveryKeyring, ManualClock, kmsClientSupplier } from '../src/index.js';
import { arn, dm, edk, key32, named, recordingSupplier } from './helpers.js';

const kmsMock = mockClient(KMSClient);
let rec: ReturnType<typeof recordingSupplier>;
beforeEach(() => {
  kmsMock.reset();
  rec = recordingSupplier();
  kmsMock.on(DecryptCommand).callsFake((i) => ({ Plaintext: key32(1), KeyId: i.KeyId }));
});
const asked = () => kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input.KeyId);
const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (e: EnvelopeError) => e,
  );

describe('KmsDiscoveryKeyring', () => {
  it('construction: names bad arguments', () => {
    const s = rec.supplier;
    expect(() => new KmsDiscoveryKeyring({} as never)).toThrow(/clientSupplier/);
    expect(() => new KmsDiscoveryKeyring({ clientSupplier: s, regions: [] })).toThrow(/regions/);
    expect(() => new KmsDiscoveryKeyring({ clientSupplier: s, regions: [''] })).toThrow(/regions/);
    expect(() => new KmsDiscoveryKeyring({ clientSupplier: s, discoveryFilter: { partition: 'aws', accountIds: [] } })).toThrow(
      /discoveryFilter/,
    );
    expect(() => new KmsDiscoveryKeyring({ clientSupplier: s, discoveryFilter: { partition: '', accountIds: ['1'] } })).toThrow(
      /discoveryFilter/,
    );
    expect(() => new KmsDiscoveryKeyring({ clientSupplier: s, grantTokens: 'x' as never })).toThrow(/grantTokens/);
  });

  it('cannot encrypt', async () => {
    await expect(new KmsDiscoveryKeyring({ clientSupplier: rec.supplier }).onEncrypt()).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
  });

  it('without regions: each key is decrypted in its own region, with its own ARN', async () => {
    const m = dm({ c: 'd' });
    await new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, grantTokens: ['gt'] }).onDecrypt(m, [edk(arn('ap-south-1', 'k'))]);
    expect(m.hasDataKey).toBe(true);
    expect(asked()).toEqual([arn('ap-south-1', 'k')]);
    expect(rec.regions).toEqual(['ap-south-1']);
    expect(kmsMock.commandCalls(DecryptCommand)[0]!.args[0].input).toMatchObject({ EncryptionContext: { c: 'd' }, GrantTokens: ['gt'] });
  });

  it('partition filter: another partition is skipped silently', async () => {
    const k = new KmsDiscoveryKeyring({
      clientSupplier: rec.supplier,
      discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] },
    });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('cn-north-1', 'k', '111122223333', 'aws-cn'))]);
    expect(m.hasDataKey).toBe(false);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('account filter: only listed accounts are tried', async () => {
    const k = new KmsDiscoveryKeyring({
      clientSupplier: rec.supplier,
      discoveryFilter: { partition: 'aws', accountIds: ['222233334444', '111122223333'] },
    });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'x', '999999999999')), edk(arn('us-east-1', 'y', '111122223333'))]);
    expect(asked()).toEqual([arn('us-east-1', 'y')]);
  });

  it('region list: a single-region key outside it is skipped; inside it is tried in its region', async () => {
    const k = new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, regions: ['us-west-2', 'eu-west-1'] });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'single')), edk(arn('eu-west-1', 'here'))]);
    expect(asked()).toEqual([arn('eu-west-1', 'here')]);
    expect(rec.regions).toEqual(['eu-west-1']);
  });

  it('MRK: its own region when listed; otherwise rewritten to the first listed region', async () => {
    const k = new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, regions: ['us-west-2', 'eu-west-1'] });
    await k.onDecrypt(dm(), [edk(arn('eu-west-1', 'mrk-9'))]);
    await k.onDecrypt(dm(), [edk(arn('us-east-1', 'mrk-9'))]);
    expect(asked()).toEqual([arn('eu-west-1', 'mrk-9'), arn('us-west-2', 'mrk-9')]);
    expect(rec.regions).toEqual(['eu-west-1', 'us-west-2']);
  });

  it('the rewritten MRK ARN is what KMS must answer with (KeyIdMismatch otherwise)', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: key32(1), KeyId: arn('us-east-1', 'mrk-9') });
    const e = await fail(
      new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, regions: ['us-west-2'] }).onDecrypt(dm(), [edk(arn('us-east-1', 'mrk-9'))]),
    );
    expect(e.causes).toEqual([expect.objectContaining({ key: arn('us-west-2', 'mrk-9'), region: 'us-west-2', reason: 'KeyIdMismatch' })]);
  });

  it('filters combine: partition, account, then region', async () => {
    const k = new KmsDiscoveryKeyring({
      clientSupplier: rec.supplier,
      regions: ['us-west-2'],
      discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] },
    });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-west-2', 'x', '999')), edk(arn('us-east-1', 'single')), edk(arn('us-east-1', 'mrk-9'))]);
    expect(m.hasDataKey).toBe(true);
    expect(asked()).toEqual([arn('us-west-2', 'mrk-9')]);
  });

  it('an invalid provider info is a listed cause (InvalidArn); other providers are ignored', async () => {
    const k = new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, regions: ['us-east-1'] });
    const e = await fail(k.onDecrypt(dm(), [edk('not-an-arn'), edk('arn:aws:kms:us-east-1:1:alias/x'), edk('x', 'y', 'raw-aes')]));
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes.map((c) => c.reason)).toEqual(['InvalidArn', 'InvalidArn']);
  });

  it('partial failure and reasons: the first key fails, the next succeeds; all failing lists each', async () => {
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'a') }).rejects(named('AccessDeniedException'));
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'b') }).rejects(named('InvalidCiphertextException'));
    const k = new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, maxRetries: 0 });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'a')), edk(arn('us-east-1', 'c'))]);
    expect(m.hasDataKey).toBe(true);
    const e = await fail(k.onDecrypt(dm(), [edk(arn('us-east-1', 'a')), edk(arn('us-east-1', 'b'))]));
    expect(e.causes.map((c) => [c.key, c.region, c.reason])).toEqual([
      [arn('us-east-1', 'a'), 'us-east-1', 'AccessDeniedException'],
      [arn('us-east-1', 'b'), 'us-east-1', 'InvalidCiphertextException'],
    ]);
  });

  it('retries throttling on a fake clock; the caller’s abort stops it', async () => {
    kmsMock
      .on(DecryptCommand)
      .rejectsOnce(named('ThrottlingException'))
      .callsFake((i) => ({ Plaintext: key32(2), KeyId: i.KeyId }));
    const clock = new ManualClock();
    const m = dm();
    await clock.run(
      new KmsDiscoveryKeyring({ clientSupplier: rec.supplier, clock, baseDelayMs: 10 }).onDecrypt(m, [edk(arn('us-east-1', 'k'))]),
    );
    expect(m.getDataKey()).toEqual(key32(2));
    // One backoff sleep of 0.5 × 10 ms, then the wait for a token: the throttle taught the pacer
    // (1 call sent in the last second: down to its floor of 10/s, no burst left).
    expect(clock.now()).toBe(100);
    await expect(
      new KmsDiscoveryKeyring({ clientSupplier: rec.supplier }).onDecrypt(dm(), [edk(arn('us-east-1', 'k'))], {
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
  });

  it('a data key already set: returned unchanged, no call', async () => {
    const m = dm().setDataKey(key32(7));
    await new KmsDiscoveryKeyring({ clientSupplier: rec.supplier }).onDecrypt(m, [edk(arn('us-east-1', 'k'))]);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('15.11: a forged header with 100 EDKs costs at most maxDecryptAttempts Decrypt calls', async () => {
    kmsMock.on(DecryptCommand).rejects(named('InvalidCiphertextException'));
    const forged = Array.from({ length: 100 }, (_, i) => edk(arn('us-east-1', `k${i}`)));
    const e = await fail(new KmsDiscoveryKeyring({ clientSupplier: rec.supplier }).onDecrypt(dm(), forged));
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(5);
    expect(e.causes.at(-1)).toMatchObject({ reason: 'AttemptLimit' });
  });

  it('15.i3: without regions, the regions an untrusted header names get a bounded client cache, and junk regions no client at all', async () => {
    // The real supplier (real SDK clients, their sends intercepted): every region is unreachable.
    kmsMock.on(DecryptCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const supplier = kmsClientSupplier({
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxClients: 8,
    });
    const asked: string[] = [];
    const k = new KmsDiscoveryKeyring({ clientSupplier: (r) => (asked.push(r), supplier(r)), maxRetries: 0 });
    for (let i = 0; i < 40; i++) {
      const forged = [edk(`arn:aws:kms:xx-forged-${i}:111122223333:key/k`), edk(`arn:aws:kms:evil.example/#${i}:111122223333:key/k`)];
      const e = await fail(k.onDecrypt(dm(), forged));
      expect(e.causes.map((c) => c.reason)).toEqual(['ECONNREFUSED', 'InvalidArn']);
    }
    expect(asked).toHaveLength(40); // the junk region never reached the supplier
    expect(supplier.size).toBe(8); // 40 attacker-chosen regions, 8 clients kept
  });
});
