/** The per-call building blocks (and kmsOperations) against the structural KmsClient, no SDK. */
import { describe, expect, it } from 'vitest';
import { EnvelopeError } from '@envelope/core';
import { Retrier, decryptDataKey, encryptDataKey, generateDataKey, kmsOperations, type KmsClient } from '../src/index.js';
import { arn, key32, named, text } from './helpers.js';

/** A hand-written KmsClient: records calls; behaviour per operation. */
function client(o: Partial<KmsClient> = {}): KmsClient & { calls: { op: string; input: unknown; signal: AbortSignal }[] } {
  const calls: { op: string; input: unknown; signal: AbortSignal }[] = [];
  const rec =
    <I, O>(op: string, f: ((i: I, s: AbortSignal) => Promise<O>) | undefined) =>
    (i: I, s: AbortSignal) => {
      calls.push({ op, input: i, signal: s });
      return f ? f(i, s) : Promise.reject(new Error('unexpected'));
    };
  return {
    calls,
    generateDataKey: rec('GenerateDataKey', o.generateDataKey),
    encrypt: rec('Encrypt', o.encrypt),
    decrypt: rec('Decrypt', o.decrypt),
  };
}

const ec = { purpose: 'test' };

describe('generateDataKey / encryptDataKey / decryptDataKey', () => {
  it('generateDataKey: an EDK naming the returned ARN; the SDK buffer wiped; ours returned', async () => {
    const sdk = key32(3);
    const c = client({
      generateDataKey: async () => ({ Plaintext: sdk, CiphertextBlob: new Uint8Array([1, 2]), KeyId: arn('us-east-1', 'k') }),
    });
    const r = await generateDataKey({
      client: c,
      keyId: 'alias/a',
      region: 'us-east-1',
      numberOfBytes: 32,
      encryptionContext: ec,
      grantTokens: ['g'],
    });
    expect(r.plaintext).toEqual(key32(3));
    expect(sdk).toEqual(key32(0));
    expect(r.keyArn).toBe(arn('us-east-1', 'k'));
    expect(r.edk.providerId).toBe('aws-kms');
    expect(text(r.edk.providerInfo)).toBe(arn('us-east-1', 'k'));
    expect(c.calls[0]!.input).toEqual({ KeyId: 'alias/a', NumberOfBytes: 32, EncryptionContext: ec, GrantTokens: ['g'] });
  });

  it('no grant tokens: none sent', async () => {
    const c = client({ encrypt: async () => ({ CiphertextBlob: new Uint8Array([1]), KeyId: arn('us-east-1', 'k') }) });
    await encryptDataKey({ client: c, keyId: arn('us-east-1', 'k'), plaintext: key32(1), encryptionContext: ec });
    expect(c.calls[0]!.input).toMatchObject({ GrantTokens: undefined });
  });

  it('the EDK ciphertext is a copy (the SDK buffer may be reused)', async () => {
    const blob = new Uint8Array([9, 9]);
    const c = client({ encrypt: async () => ({ CiphertextBlob: blob, KeyId: arn('us-east-1', 'k') }) });
    const r = await encryptDataKey({ client: c, keyId: arn('us-east-1', 'k'), plaintext: key32(1), encryptionContext: ec });
    blob.fill(0);
    expect([...r.edk.ciphertext]).toEqual([9, 9]);
  });

  it('failures are ENVELOPE_KMS with one cause (key, region, reason) and the SDK error as cause', async () => {
    const err = named('NotFoundException');
    const c = client({ decrypt: async () => Promise.reject(err) });
    const e = (await decryptDataKey({
      client: c,
      keyArn: arn('eu-west-1', 'k'),
      ciphertext: new Uint8Array(1),
      encryptionContext: ec,
    }).catch((x) => x)) as EnvelopeError;
    expect(e.code).toBe('ENVELOPE_KMS');
    expect(e.causes).toEqual([{ key: arn('eu-west-1', 'k'), region: 'eu-west-1', reason: 'NotFoundException', error: err }]);
    expect(e.cause).toBe(err);
    expect(e.message).toContain('NotFoundException');
  });

  it('decryptDataKey: KeyId must be the ARN asked; length checked only when given', async () => {
    const c = client({ decrypt: async () => ({ Plaintext: new Uint8Array(16), KeyId: arn('us-east-1', 'k') }) });
    await expect(
      decryptDataKey({ client: c, keyArn: arn('us-east-1', 'k'), ciphertext: new Uint8Array(1), encryptionContext: ec }),
    ).resolves.toHaveLength(16);
    await expect(
      decryptDataKey({ client: c, keyArn: arn('us-east-1', 'k'), ciphertext: new Uint8Array(1), encryptionContext: ec, numberOfBytes: 32 }),
    ).rejects.toMatchObject({ causes: [{ reason: 'MalformedResponse' }] });
    await expect(
      decryptDataKey({ client: c, keyArn: arn('us-east-1', 'other'), ciphertext: new Uint8Array(1), encryptionContext: ec }),
    ).rejects.toMatchObject({ causes: [{ reason: 'KeyIdMismatch' }] });
  });

  it('a client that answers synchronously (not a Promise) still works', async () => {
    const c = {
      generateDataKey: () => ({ Plaintext: key32(1), CiphertextBlob: new Uint8Array([1]), KeyId: arn('us-east-1', 'k') }),
    } as unknown as KmsClient;
    await expect(
      generateDataKey({ client: c, keyId: arn('us-east-1', 'k'), numberOfBytes: 32, encryptionContext: ec }),
    ).resolves.toMatchObject({ keyArn: arn('us-east-1', 'k') });
  });

  it('each call gets a signal; the default is one attempt under a deadline', async () => {
    const c = client({ decrypt: () => new Promise(() => {}) });
    const e = await decryptDataKey({
      client: c,
      keyArn: arn('us-east-1', 'k'),
      ciphertext: new Uint8Array(1),
      encryptionContext: ec,
      retrier: new Retrier({ callTimeoutMs: 20 }),
    }).catch((x) => x);
    expect(e.causes[0].reason).toBe('TimeoutError');
    expect(c.calls[0]!.signal.aborted).toBe(true);
  });
});

describe('kmsOperations (for the multi-region keyring)', () => {
  it('routes each call to the region’s client and maps results', async () => {
    const regions: string[] = [];
    const c = client({
      generateDataKey: async (i) => ({ Plaintext: key32(1), CiphertextBlob: new Uint8Array([1]), KeyId: i.KeyId }),
      encrypt: async (i) => ({ CiphertextBlob: new Uint8Array([2]), KeyId: i.KeyId }),
      decrypt: async (i) => ({ Plaintext: key32(1), KeyId: i.KeyId }),
    });
    const ops = kmsOperations((r) => (regions.push(r), c), { grantTokens: ['gt'] });
    const signal = new AbortController().signal;
    const g = await ops.generateDataKey({
      region: 'us-east-1',
      keyId: arn('us-east-1', 'k'),
      numberOfBytes: 32,
      encryptionContext: ec,
      signal,
    });
    expect(g).toEqual({ plaintext: key32(1), ciphertext: new Uint8Array([1]), keyArn: arn('us-east-1', 'k') });
    const e = await ops.encrypt({ region: 'eu-west-1', keyId: arn('eu-west-1', 'k'), plaintext: key32(1), encryptionContext: ec, signal });
    expect(e).toEqual({ ciphertext: new Uint8Array([2]), keyArn: arn('eu-west-1', 'k') });
    const d = await ops.decrypt({
      region: 'eu-west-1',
      keyArn: arn('eu-west-1', 'k'),
      ciphertext: new Uint8Array([2]),
      encryptionContext: ec,
      signal,
    });
    expect(d.plaintext).toEqual(key32(1));
    expect(regions).toEqual(['us-east-1', 'eu-west-1', 'eu-west-1']);
    expect(c.calls.every((x) => (x.input as { GrantTokens: string[] }).GrantTokens[0] === 'gt')).toBe(true);
  });

  it('one attempt per call by default (the multi-region keyring hedges instead); KeyId mismatch refused; abort passes through', async () => {
    let n = 0;
    const c = client({ decrypt: async () => (n++, Promise.reject(named('ThrottlingException'))) });
    const ops = kmsOperations(() => c);
    const signal = new AbortController().signal;
    await expect(
      ops.decrypt({ region: 'us-east-1', keyArn: arn('us-east-1', 'k'), ciphertext: new Uint8Array(1), encryptionContext: ec, signal }),
    ).rejects.toMatchObject({
      code: 'ENVELOPE_THROTTLED', // load, coded as such (not ENVELOPE_KMS)
      causes: [{ reason: 'ThrottlingException', region: 'us-east-1' }],
    });
    expect(n).toBe(1);
    const bad = kmsOperations(() => client({ decrypt: async () => ({ Plaintext: key32(1), KeyId: arn('us-east-1', 'x') }) }));
    await expect(
      bad.decrypt({ region: 'us-east-1', keyArn: arn('us-east-1', 'k'), ciphertext: new Uint8Array(1), encryptionContext: ec, signal }),
    ).rejects.toMatchObject({ causes: [{ reason: 'KeyIdMismatch' }] });
    const hang = kmsOperations(() => client({ decrypt: () => new Promise(() => {}) }));
    await expect(
      hang.decrypt({
        region: 'us-east-1',
        keyArn: arn('us-east-1', 'k'),
        ciphertext: new Uint8Array(1),
        encryptionContext: ec,
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
  });
});
