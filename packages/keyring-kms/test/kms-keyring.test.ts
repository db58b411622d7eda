/**
 * KmsKeyring with aws-sdk-client-mock (no network): what each call sends, which EDKs are tried
 * and where, KeyId and length checks, partial failures, error reasons, retries, deadline, abort,
 * and the SDK's plaintext buffers wiped.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { EnvelopeError, type KeyFailure } from '@envelope/core';
import { HealthRegistry, KmsKeyring, ManualClock, RegionPacer } from '../src/index.js';
import { arn, dm, edk, em, key32, named, recordingSupplier, text } from './helpers.js';

const kmsMock = mockClient(KMSClient);
let rec: ReturnType<typeof recordingSupplier>;
beforeEach(() => {
  kmsMock.reset();
  rec = recordingSupplier();
});
const reasons = (e: EnvelopeError) => e.causes.map((c: KeyFailure) => [c.key, c.region, c.reason]);
/** The options the adapter passed to `client.send` (the typings of commandCalls omit them). */
const sendOptions = (i: number) => (kmsMock.commandCalls(DecryptCommand)[i]!.args as unknown[])[1] as { abortSignal: AbortSignal };
const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (e: EnvelopeError) => e,
  );

describe('KmsKeyring construction', () => {
  it('needs a supplier and at least one key; names the bad parameter', () => {
    const s = rec.supplier;
    expect(() => new KmsKeyring({} as never)).toThrow(/clientSupplier/);
    expect(() => new KmsKeyring({ clientSupplier: s })).toThrow(/generatorKeyId/);
    expect(() => new KmsKeyring({ clientSupplier: s, keyIds: [] })).toThrow(/generatorKeyId/);
    expect(() => new KmsKeyring({ clientSupplier: s, generatorKeyId: '' })).toThrow(/generatorKeyId/);
    expect(() => new KmsKeyring({ clientSupplier: s, generatorKeyId: 'arn:aws:kms:us-east-1:1:key/' })).toThrow(/generatorKeyId/);
    expect(() => new KmsKeyring({ clientSupplier: s, keyIds: [arn('us-east-1', 'k'), 'arn:broken'] })).toThrow(/keyIds\[1\]/);
    expect(() => new KmsKeyring({ clientSupplier: s, keyIds: ['alias/x'] })).toThrow(/defaultRegion/);
    expect(() => new KmsKeyring({ clientSupplier: s, keyIds: [arn('us-east-1', 'k')], grantTokens: [''] })).toThrow(/grantTokens/);
    for (const e of [() => new KmsKeyring({ clientSupplier: s, generatorKeyId: 'x y' })])
      expect(e).toThrow(expect.objectContaining({ code: 'ENVELOPE_INVALID_ARGUMENT' }));
  });

  it('accepts key ARNs, alias ARNs, and alias/… or bare ids with a defaultRegion', () => {
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      generatorKeyId: 'alias/orders',
      keyIds: [arn('eu-west-1', 'k'), 'arn:aws:kms:us-east-1:1:alias/a', '1234abcd'],
      defaultRegion: 'us-west-2',
    });
    expect(k.decryptKeyArns).toEqual([arn('eu-west-1', 'k')]);
  });
});

describe('KmsKeyring.onEncrypt', () => {
  it('GenerateDataKey on the generator, Encrypt on each key, in their regions; context and grant tokens on every call; SDK buffer wiped', async () => {
    const sdkPlaintext = key32(9);
    kmsMock
      .on(GenerateDataKeyCommand)
      .resolves({ Plaintext: sdkPlaintext, CiphertextBlob: Buffer.from('g'), KeyId: arn('us-east-1', 'gen') });
    const seen: Buffer[] = [];
    kmsMock
      .on(EncryptCommand)
      .callsFake((i) => (seen.push(Buffer.from(i.Plaintext)), { CiphertextBlob: Buffer.from(`e:${i.KeyId}`), KeyId: i.KeyId }));
    const keys = [arn('us-west-2', 'k2'), arn('eu-west-1', 'k3')];
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      generatorKeyId: arn('us-east-1', 'gen'),
      keyIds: keys,
      grantTokens: ['gt1', 'gt2'],
    });
    const m = em({ tenant: 'acme' });
    await k.onEncrypt(m);
    expect(m.encryptedDataKeys.map((e) => [e.providerId, text(e.providerInfo), text(e.ciphertext)])).toEqual([
      ['aws-kms', arn('us-east-1', 'gen'), 'g'],
      ['aws-kms', keys[0], `e:${keys[0]}`],
      ['aws-kms', keys[1], `e:${keys[1]}`],
    ]);
    expect(m.getDataKey()).toEqual(key32(9));
    expect(sdkPlaintext).toEqual(key32(0));
    expect(rec.regions).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
    const g = kmsMock.commandCalls(GenerateDataKeyCommand)[0]!.args[0].input;
    expect(g).toEqual({
      KeyId: arn('us-east-1', 'gen'),
      NumberOfBytes: 32,
      EncryptionContext: { tenant: 'acme' },
      GrantTokens: ['gt1', 'gt2'],
    });
    const enc = kmsMock.commandCalls(EncryptCommand).map((c) => c.args[0].input);
    expect(enc.map((e) => e.KeyId)).toEqual(keys);
    for (const e of enc) expect(e).toMatchObject({ EncryptionContext: { tenant: 'acme' }, GrantTokens: ['gt1', 'gt2'] });
    expect(seen).toEqual([Buffer.from(key32(9)), Buffer.from(key32(9))]);
    // The copy of the data key handed to Encrypt is wiped afterwards.
    expect(Buffer.from(enc[0]!.Plaintext!)).toEqual(Buffer.from(key32(0)));
  });

  it('NumberOfBytes follows the suite', async () => {
    const { SUITES, EncryptionMaterials } = await import('@envelope/core');
    const suite16 = SUITES.get(0x0014)!;
    kmsMock
      .on(GenerateDataKeyCommand)
      .resolves({ Plaintext: new Uint8Array(16), CiphertextBlob: Buffer.from('g'), KeyId: arn('us-east-1', 'gen') });
    await new KmsKeyring({ clientSupplier: rec.supplier, generatorKeyId: arn('us-east-1', 'gen') }).onEncrypt(
      new EncryptionMaterials({ suite: suite16, encryptionContext: {} }),
    );
    expect(kmsMock.commandCalls(GenerateDataKeyCommand)[0]!.args[0].input.NumberOfBytes).toBe(16);
  });

  it('an alias generator: the EDK names the key ARN KMS returned; called in defaultRegion', async () => {
    kmsMock.on(GenerateDataKeyCommand).resolves({ Plaintext: key32(1), CiphertextBlob: Buffer.from('g'), KeyId: arn('us-west-2', 'real') });
    const m = em();
    await new KmsKeyring({ clientSupplier: rec.supplier, generatorKeyId: 'alias/orders', defaultRegion: 'us-west-2' }).onEncrypt(m);
    expect(text(m.encryptedDataKeys[0]!.providerInfo)).toBe(arn('us-west-2', 'real'));
    expect(rec.regions).toEqual(['us-west-2']);
  });

  it('materials that already have a data key: the generator Encrypts too (no GenerateDataKey)', async () => {
    kmsMock.on(EncryptCommand).callsFake((i) => ({ CiphertextBlob: Buffer.from('e'), KeyId: i.KeyId }));
    const m = em().setDataKey(key32(4));
    await new KmsKeyring({
      clientSupplier: rec.supplier,
      generatorKeyId: arn('us-east-1', 'gen'),
      keyIds: [arn('us-east-1', 'k')],
    }).onEncrypt(m);
    expect(kmsMock.commandCalls(GenerateDataKeyCommand)).toHaveLength(0);
    expect(kmsMock.commandCalls(EncryptCommand).map((c) => c.args[0].input.KeyId)).toEqual([
      arn('us-east-1', 'gen'),
      arn('us-east-1', 'k'),
    ]);
    expect(m.encryptedDataKeys).toHaveLength(2);
  });

  it('no generator: needs a data key already; with one, wraps it', async () => {
    const k = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] });
    await expect(k.onEncrypt(em())).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('e'), KeyId: arn('us-east-1', 'k') });
    const m = em().setDataKey(key32(5));
    await k.onEncrypt(m);
    expect(m.encryptedDataKeys).toHaveLength(1);
  });

  it('GenerateDataKey fails: coded error with key, region and reason; materials untouched', async () => {
    kmsMock.on(GenerateDataKeyCommand).rejects(named('DisabledException'));
    const m = em();
    const e = await fail(new KmsKeyring({ clientSupplier: rec.supplier, generatorKeyId: arn('eu-west-1', 'gen') }).onEncrypt(m));
    expect(e.code).toBe('ENVELOPE_KEYRING_FAILURE');
    expect(reasons(e)).toEqual([[arn('eu-west-1', 'gen'), 'eu-west-1', 'DisabledException']]);
    expect(m.hasDataKey).toBe(false);
    expect(m.encryptedDataKeys).toHaveLength(0);
  });

  it('GenerateDataKey answers badly: wrong length, a KeyId that is not a key ARN, no ciphertext — refused and the SDK buffer still wiped', async () => {
    const cases = [
      { Plaintext: new Uint8Array(31).fill(7), CiphertextBlob: Buffer.from('g'), KeyId: arn('us-east-1', 'gen') },
      { Plaintext: key32(7), CiphertextBlob: Buffer.from('g'), KeyId: 'arn:aws:kms:us-east-1:1:alias/gen' },
      { Plaintext: key32(7), CiphertextBlob: Buffer.from('g'), KeyId: undefined },
      { Plaintext: key32(7), CiphertextBlob: new Uint8Array(0), KeyId: arn('us-east-1', 'gen') },
      { Plaintext: undefined, CiphertextBlob: Buffer.from('g'), KeyId: arn('us-east-1', 'gen') },
    ];
    for (const r of cases) {
      kmsMock.reset();
      kmsMock.on(GenerateDataKeyCommand).resolves(r);
      const m = em();
      const e = await fail(new KmsKeyring({ clientSupplier: rec.supplier, generatorKeyId: arn('us-east-1', 'gen') }).onEncrypt(m));
      expect(e.code).toBe('ENVELOPE_KEYRING_FAILURE');
      expect(e.causes[0]!.reason).toBe('MalformedResponse');
      expect(m.hasDataKey).toBe(false);
      if (r.Plaintext) expect(r.Plaintext.every((x) => x === 0)).toBe(true);
    }
  });

  it('one Encrypt fails: the call fails listing that key; the others were still tried', async () => {
    kmsMock.on(GenerateDataKeyCommand).resolves({ Plaintext: key32(1), CiphertextBlob: Buffer.from('g'), KeyId: arn('us-east-1', 'gen') });
    kmsMock.on(EncryptCommand, { KeyId: arn('us-west-2', 'a') }).rejects(named('AccessDeniedException'));
    kmsMock
      .on(EncryptCommand, { KeyId: arn('eu-west-1', 'b') })
      .resolves({ CiphertextBlob: Buffer.from('e'), KeyId: arn('eu-west-1', 'b') });
    kmsMock.on(EncryptCommand, { KeyId: arn('ap-south-1', 'c') }).rejects(named('NotFoundException'));
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      generatorKeyId: arn('us-east-1', 'gen'),
      keyIds: [arn('us-west-2', 'a'), arn('eu-west-1', 'b'), arn('ap-south-1', 'c')],
    });
    const e = await fail(k.onEncrypt(em()));
    expect(e.code).toBe('ENVELOPE_KEYRING_FAILURE');
    expect(reasons(e)).toEqual([
      [arn('us-west-2', 'a'), 'us-west-2', 'AccessDeniedException'],
      [arn('ap-south-1', 'c'), 'ap-south-1', 'NotFoundException'],
    ]);
    expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(3);
  });

  it('an Encrypt response whose KeyId is not a key ARN is refused', async () => {
    kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('e'), KeyId: 'alias/x' });
    const e = await fail(
      new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onEncrypt(em().setDataKey(key32(1))),
    );
    expect(reasons(e)).toEqual([[arn('us-east-1', 'k'), 'us-east-1', 'MalformedResponse']]);
  });

  it('the caller’s abort is ENVELOPE_ABORTED, not a keyring failure', async () => {
    let sent!: () => void;
    const called = new Promise<void>((r) => (sent = r));
    kmsMock.on(GenerateDataKeyCommand).callsFake(() => (sent(), new Promise(() => {})));
    const ac = new AbortController();
    const p = new KmsKeyring({ clientSupplier: rec.supplier, generatorKeyId: arn('us-east-1', 'gen') }).onEncrypt(em(), {
      signal: ac.signal,
    });
    await called; // the call is out
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    kmsMock.on(EncryptCommand).callsFake(() => new Promise(() => {}));
    const p2 = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onEncrypt(em().setDataKey(key32(1)), {
      signal: AbortSignal.abort(),
    });
    await expect(p2).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
  });
});

describe('KmsKeyring.onDecrypt', () => {
  const okDecrypt = (fill = 1) => kmsMock.on(DecryptCommand).callsFake((i) => ({ Plaintext: key32(fill), KeyId: i.KeyId }));

  it('tries only aws-kms EDKs whose ARN is a configured key; others are skipped silently', async () => {
    okDecrypt();
    const k = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'mine')] });
    const m = dm();
    await k.onDecrypt(m, [edk('raw-key', 'x', 'raw-aes'), edk(arn('us-east-1', 'other')), edk(arn('us-east-1', 'mine'), 'c-mine')]);
    expect(m.getDataKey()).toEqual(key32(1));
    const calls = kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ KeyId: arn('us-east-1', 'mine'), EncryptionContext: { a: 'b' } });
    expect(text(calls[0]!.CiphertextBlob!)).toBe('c-mine');
  });

  it('nothing of ours: materials returned unchanged, no call, no error', async () => {
    const m = dm();
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'mine')] }).onDecrypt(m, [
      edk(arn('us-east-1', 'other')),
      edk('p', 'x', 'raw-aes'),
    ]);
    expect(m.hasDataKey).toBe(false);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('materials that already have a data key are returned at once', async () => {
    const m = dm().setDataKey(key32(3));
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onDecrypt(m, [edk(arn('us-east-1', 'k'))]);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('grant tokens and the encryption context reach Decrypt', async () => {
    okDecrypt();
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')], grantTokens: ['g'] }).onDecrypt(dm({ x: 'y' }), [
      edk(arn('us-east-1', 'k')),
    ]);
    expect(kmsMock.commandCalls(DecryptCommand)[0]!.args[0].input).toMatchObject({ EncryptionContext: { x: 'y' }, GrantTokens: ['g'] });
  });

  it('multi-region keys: an EDK written in us-east-1 is decrypted by the configured replica, in its region, with its ARN', async () => {
    okDecrypt();
    const k = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('eu-west-1', 'mrk-abc')] });
    const m = dm();
    await k.onDecrypt(m, [edk(arn('us-east-1', 'mrk-abc'))]);
    expect(m.hasDataKey).toBe(true);
    expect(kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input.KeyId)).toEqual([arn('eu-west-1', 'mrk-abc')]);
    expect(rec.regions).toEqual(['eu-west-1']);
  });

  it('but a single-region key with the same id in another region, or an mrk of another account, is not ours', async () => {
    okDecrypt();
    const m = dm();
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('eu-west-1', 'k'), arn('eu-west-1', 'mrk-1')] }).onDecrypt(m, [
      edk(arn('us-east-1', 'k')),
      edk(arn('us-east-1', 'mrk-1', '999999999999')),
    ]);
    expect(m.hasDataKey).toBe(false);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('a Decrypt answer for another key is refused (KeyIdMismatch), and its plaintext wiped', async () => {
    const sdkPlaintext = key32(8);
    kmsMock.on(DecryptCommand).resolves({ Plaintext: sdkPlaintext, KeyId: arn('us-east-1', 'evil') });
    const m = dm();
    const e = await fail(
      new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onDecrypt(m, [edk(arn('us-east-1', 'k'))]),
    );
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(reasons(e)).toEqual([[arn('us-east-1', 'k'), 'us-east-1', 'KeyIdMismatch']]);
    expect(sdkPlaintext).toEqual(key32(0));
    expect(m.hasDataKey).toBe(false);
  });

  it('an MRK replica must answer with the configured ARN, not the EDK’s', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: key32(1), KeyId: arn('us-east-1', 'mrk-1') });
    const e = await fail(
      new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('eu-west-1', 'mrk-1')] }).onDecrypt(dm(), [
        edk(arn('us-east-1', 'mrk-1')),
      ]),
    );
    expect(e.causes[0]).toMatchObject({ reason: 'KeyIdMismatch', region: 'eu-west-1' });
  });

  it('a data key of the wrong length is refused, and wiped', async () => {
    const sdkPlaintext = new Uint8Array(16).fill(6);
    kmsMock.on(DecryptCommand).resolves({ Plaintext: sdkPlaintext, KeyId: arn('us-east-1', 'k') });
    const e = await fail(
      new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]),
    );
    expect(e.causes[0]!.reason).toBe('MalformedResponse');
    expect(sdkPlaintext.every((x) => x === 0)).toBe(true);
  });

  it('the SDK’s plaintext buffer is wiped after a successful decrypt', async () => {
    const sdkPlaintext = key32(5);
    kmsMock.on(DecryptCommand).resolves({ Plaintext: sdkPlaintext, KeyId: arn('us-east-1', 'k') });
    const m = dm();
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onDecrypt(m, [edk(arn('us-east-1', 'k'))]);
    expect(m.getDataKey()).toEqual(key32(5));
    expect(sdkPlaintext).toEqual(key32(0));
  });

  it('partial failure: the first key fails, the second succeeds; the first success stops the search', async () => {
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'a') }).rejects(named('AccessDeniedException'));
    kmsMock.on(DecryptCommand, { KeyId: arn('us-west-2', 'b') }).resolves({ Plaintext: key32(2), KeyId: arn('us-west-2', 'b') });
    kmsMock.on(DecryptCommand, { KeyId: arn('eu-west-1', 'c') }).resolves({ Plaintext: key32(3), KeyId: arn('eu-west-1', 'c') });
    const keys = [arn('us-east-1', 'a'), arn('us-west-2', 'b'), arn('eu-west-1', 'c')];
    const m = dm();
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: keys }).onDecrypt(
      m,
      keys.map((k) => edk(k)),
    );
    expect(m.getDataKey()).toEqual(key32(2));
    expect(kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input.KeyId)).toEqual(keys.slice(0, 2));
    expect(rec.regions).toEqual(['us-east-1', 'us-west-2']);
  });

  it('all failing: one coded error telling AccessDenied, Disabled, NotFound, InvalidCiphertext, Throttling and Timeout apart', async () => {
    const names = ['AccessDeniedException', 'DisabledException', 'NotFoundException', 'InvalidCiphertextException', 'ThrottlingException'];
    const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'sa-east-1'];
    const keys = regions.map((r, i) => arn(r, `k${i}`));
    names.forEach((n, i) => kmsMock.on(DecryptCommand, { KeyId: keys[i] }).rejects(named(n)));
    kmsMock.on(DecryptCommand, { KeyId: keys[5] }).callsFake(() => new Promise(() => {}));
    const clock = new ManualClock();
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: keys,
      maxRetries: 0,
      callTimeoutMs: 30,
      maxDecryptAttempts: 6,
      clock,
    });
    const e = await fail(
      clock.run(
        k.onDecrypt(
          dm(),
          keys.map((x) => edk(x)),
        ),
      ),
    );
    expect(e).toBeInstanceOf(EnvelopeError);
    // One of the causes is a deadline: another try may succeed, so the code says timeout.
    expect(e.code).toBe('ENVELOPE_TIMEOUT');
    expect(reasons(e)).toEqual([...names, 'TimeoutError'].map((n, i) => [keys[i], regions[i], n]));
    for (const n of names) expect(e.message).toContain(n);
  });

  it('an aws-kms EDK whose provider info is not a key ARN is a listed failure, and the rest are still tried', async () => {
    okDecrypt(4);
    const k = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] });
    const bad = [
      edk('not-an-arn'),
      edk('arn:aws:kms:us-east-1:1:alias/k'),
      { providerId: 'aws-kms', providerInfo: new Uint8Array([0xff, 0xfe]), ciphertext: new Uint8Array(1) },
    ];
    const e = await fail(k.onDecrypt(dm(), bad));
    expect(e.causes.map((c) => c.reason)).toEqual(['InvalidArn', 'InvalidArn', 'InvalidArn']);
    const m = dm();
    await k.onDecrypt(m, [...bad, edk(arn('us-east-1', 'k'))]);
    expect(m.getDataKey()).toEqual(key32(4));
  });

  it('aliases can encrypt but not decrypt: never matched, and named (NotAKeyArn) when a decrypt fails', async () => {
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      generatorKeyId: 'arn:aws:kms:us-east-1:111122223333:alias/x',
      keyIds: ['alias/y'],
      defaultRegion: 'eu-west-1',
    });
    const e = await fail(k.onDecrypt(dm(), [edk(arn('us-east-1', 'x'))]));
    expect(kmsMock.calls()).toHaveLength(0);
    expect(reasons(e)).toEqual([
      ['arn:aws:kms:us-east-1:111122223333:alias/x', 'us-east-1', 'NotAKeyArn'],
      ['alias/y', 'eu-west-1', 'NotAKeyArn'],
    ]);
    // A message without aws-kms EDKs is simply not ours.
    const m = dm();
    await k.onDecrypt(m, [edk('p', 'x', 'raw-aes')]);
    expect(m.hasDataKey).toBe(false);
  });

  it('throttling is retried with backoff on a fake clock, within maxRetries', async () => {
    kmsMock
      .on(DecryptCommand)
      .rejectsOnce(named('ThrottlingException'))
      .rejectsOnce(named('KMSInternalException', 500))
      .resolves({ Plaintext: key32(1), KeyId: arn('us-east-1', 'k') });
    const clock = new ManualClock();
    const m = dm();
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: [arn('us-east-1', 'k')],
      maxRetries: 3,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      clock,
    });
    await clock.run(k.onDecrypt(m, [edk(arn('us-east-1', 'k'))]));
    expect(m.hasDataKey).toBe(true);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(3);
    // Backoff 50 ms, then a token (the throttle cut the pacer to 10/s: 50 ms more), backoff 100 ms.
    expect(clock.now()).toBe(50 + 50 + 100);
  });

  it('AccessDenied is not retried; Throttling gives up after maxRetries', async () => {
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'a') }).rejects(named('AccessDeniedException'));
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 't') }).rejects(named('ThrottlingException'));
    const clock = new ManualClock();
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: [arn('us-east-1', 'a'), arn('us-east-1', 't')],
      maxRetries: 2,
      clock,
      pacer: new RegionPacer({ clock, minRate: 1e6 }), // pacing is not what this test is about
    });
    const e = await fail(clock.run(k.onDecrypt(dm(), [edk(arn('us-east-1', 'a')), edk(arn('us-east-1', 't'))])));
    expect(e.causes.map((c) => c.reason)).toEqual(['AccessDeniedException', 'ThrottlingException']);
    expect(kmsMock.commandCalls(DecryptCommand).map((c) => c.args[0].input.KeyId)).toEqual([
      arn('us-east-1', 'a'),
      arn('us-east-1', 't'),
      arn('us-east-1', 't'),
      arn('us-east-1', 't'),
    ]);
    expect(clock.now()).toBe(25 + 50); // two backoff sleeps
  });

  it('the keyring’s retry budget: during an outage retries stop once it is spent', async () => {
    kmsMock.on(DecryptCommand).rejects(named('ThrottlingException'));
    const clock = new ManualClock();
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: [arn('us-east-1', 'k')],
      maxRetries: 3,
      maxRetryTokens: 4,
      retryRatio: 0.1,
      minRetriesPerSecond: 0,
      clock,
      pacer: new RegionPacer({ clock, minRate: 1e6 }), // pacing is not what this test is about
    });
    for (let i = 0; i < 20; i++) await clock.run(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))])).catch(() => {});
    // 20 first attempts; 4 saved retries + 0.1 × 20 earned; without the budget it would be 80.
    const n = kmsMock.commandCalls(DecryptCommand).length;
    expect(n).toBeGreaterThanOrEqual(20 + 4 + 1);
    expect(n).toBeLessThanOrEqual(20 + 4 + 2);
  });

  it('a call that never answers ends at the per-call deadline (TimeoutError), and the request’s signal is aborted', async () => {
    kmsMock.on(DecryptCommand).callsFake(() => new Promise(() => {}));
    const clock = new ManualClock();
    const k = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 50, maxRetries: 0, clock });
    let settled = false;
    const p = k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]);
    p.catch(() => {}).finally(() => (settled = true));
    await clock.advance(49);
    expect(settled).toBe(false);
    await clock.advance(1);
    const e = await fail(p);
    // A deadline is ENVELOPE_TIMEOUT (not NO_DECRYPTABLE_KEY), still listing key, region and reason.
    expect(e.code).toBe('ENVELOPE_TIMEOUT');
    expect(reasons(e)).toEqual([[arn('us-east-1', 'k'), 'us-east-1', 'TimeoutError']]);
    expect(sendOptions(0).abortSignal.aborted).toBe(true);
  });

  it('timeouts are retried: 1 + maxRetries attempts, each under its own deadline', async () => {
    kmsMock.on(DecryptCommand).callsFake(() => new Promise(() => {}));
    const clock = new ManualClock();
    const k = new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 20, maxRetries: 2, clock });
    const e = await fail(clock.run(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))])));
    expect(e.code).toBe('ENVELOPE_TIMEOUT');
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(3);
    expect(clock.now()).toBe(3 * 20 + 25 + 50); // three deadlines and two backoff sleeps
  });

  it('the caller’s signal aborts a hanging call at once: ENVELOPE_ABORTED, no further keys tried', async () => {
    kmsMock.on(DecryptCommand).callsFake(() => new Promise(() => {}));
    const ac = new AbortController();
    const clock = new ManualClock();
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: [arn('us-east-1', 'a'), arn('us-east-1', 'b')],
      callTimeoutMs: 10_000,
      clock,
    });
    const p = k.onDecrypt(dm(), [edk(arn('us-east-1', 'a')), edk(arn('us-east-1', 'b'))], { signal: ac.signal });
    await clock.advance(20);
    ac.abort(new Error('user gave up'));
    const e = await fail(p);
    expect(e.code).toBe('ENVELOPE_ABORTED');
    expect(clock.now()).toBe(20); // at once: no deadline waited out
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
    expect(sendOptions(0).abortSignal.aborted).toBe(true);
  });

  it('15.11: a forged header with 100 EDKs naming this keyring’s key costs at most maxDecryptAttempts Decrypt calls', async () => {
    kmsMock.on(DecryptCommand).rejects(named('InvalidCiphertextException'));
    const forged = Array.from({ length: 100 }, (_, i) => edk(arn('us-east-1', 'k'), `garbage-${i}`));
    const e = await fail(new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onDecrypt(dm(), forged));
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(5); // the default cap, not 100
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes.map((c) => c.reason)).toEqual([...Array(5).fill('InvalidCiphertextException'), 'AttemptLimit']);
    kmsMock.resetHistory();
    await fail(
      new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')], maxDecryptAttempts: 2 }).onDecrypt(dm(), forged),
    );
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(2);
    expect(() => new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')], maxDecryptAttempts: 0 })).toThrow(
      /maxDecryptAttempts/,
    );
  });

  it('15.11: the cap counts calls, not EDKs: a genuine EDK among the first attempts still decrypts', async () => {
    kmsMock
      .on(DecryptCommand)
      .callsFake((i: { CiphertextBlob: Uint8Array; KeyId: string }) =>
        Buffer.from(i.CiphertextBlob).toString() === 'good'
          ? { Plaintext: key32(9), KeyId: i.KeyId }
          : Promise.reject(named('InvalidCiphertextException')),
      );
    const m = dm();
    const edks = [
      edk(arn('us-east-1', 'k'), 'bad-1'),
      edk('arn:aws:kms:us-east-1:111122223333:key/other', 'x'),
      edk(arn('us-east-1', 'k'), 'good'),
    ];
    await new KmsKeyring({ clientSupplier: rec.supplier, keyIds: [arn('us-east-1', 'k')] }).onDecrypt(m, edks);
    expect(m.getDataKey()).toEqual(key32(9));
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(2); // the other key's EDK is not ours: no call
  });

  it('fail fast: once the region’s breaker is open, a batch of decrypts sharing one registry stops waiting out deadlines', async () => {
    kmsMock.on(DecryptCommand).callsFake(() => new Promise(() => {})); // a blackholed region
    const clock = new ManualClock();
    const health = new HealthRegistry({ clock, breaker: { failureThreshold: 3, openMs: 60_000 } });
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: [arn('us-east-1', 'k')],
      callTimeoutMs: 500,
      maxRetries: 2,
      clock,
      health,
    });
    const errors: EnvelopeError[] = [];
    for (let i = 0; i < 40; i++) errors.push(await fail(clock.run(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]))));
    // The first file's three attempts time out and open the breaker; the other 39 fail at once.
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(3);
    expect(clock.now()).toBeLessThan(3 * 500 + 1000);
    expect(errors[0]!.code).toBe('ENVELOPE_TIMEOUT');
    expect(errors.slice(1).every((e) => e.code === 'ENVELOPE_NO_DECRYPTABLE_KEY' && e.causes[0]!.reason === 'CircuitOpen')).toBe(true);
    expect(errors[1]!.message).toMatch(/\(us-east-1\): CircuitOpen/);
    expect(health.regionHealth('us-east-1')).toMatchObject({ breaker: 'open', failures: 3, lastError: 'TimeoutError' });
  });

  it('throttling and a key’s refusal never open the breaker of a KMS keyring', async () => {
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 't') }).rejects(named('ThrottlingException'));
    kmsMock.on(DecryptCommand, { KeyId: arn('us-east-1', 'a') }).rejects(named('AccessDeniedException'));
    const clock = new ManualClock();
    const health = new HealthRegistry({ clock, breaker: { failureThreshold: 3 } });
    const k = new KmsKeyring({
      clientSupplier: rec.supplier,
      keyIds: [arn('us-east-1', 't'), arn('us-east-1', 'a')],
      clock,
      health,
      pacer: new RegionPacer({ clock, minRate: 1e6 }),
    });
    for (let i = 0; i < 10; i++) await fail(clock.run(k.onDecrypt(dm(), [edk(arn('us-east-1', 't')), edk(arn('us-east-1', 'a'))])));
    expect(health.regionHealth('us-east-1')).toMatchObject({ breaker: 'closed', failures: 0 });
  });
});
