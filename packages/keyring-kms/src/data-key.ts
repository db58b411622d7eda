/**
 * The three building blocks every KMS keyring here uses, and the multi-region keyring builds
 * on: one KMS operation, one key, one region, under a deadline and the caller's signal, with
 * budgeted retries; each checks what KMS returned and wipes the SDK's plaintext buffer.
 *
 * Failures carry exactly one cause `{ key, region, reason }` (reason: see {@link reasonOf});
 * their code is ENVELOPE_TIMEOUT for a deadline, ENVELOPE_THROTTLED for a region at its quota,
 * ENVELOPE_KMS otherwise; the caller's abort is ENVELOPE_ABORTED.
 */
import { EnvelopeError, type EncryptedDataKey, rethrowIfAborted } from '@envelope/core';
import { parseKeyArn, regionOf } from './arn.js';
import { keyFailure } from './errors.js';
import { codeForFailures } from './failure-kind.js';
import type { KmsClient } from './kms-client.js';
import { Retrier } from './retry.js';

/** The EDK provider id of the AWS Encryption SDK's KMS keyrings. */
export const KMS_PROVIDER_ID = 'aws-kms';

/** What every building block takes. */
export interface KmsCallOptions {
  /** The client for the key's region. */
  client: KmsClient;
  /** Region, for failure reports; default: the key ARN's region. */
  region?: string | undefined;
  /** Sent to KMS as `EncryptionContext` (binds the data key to it). */
  encryptionContext: Readonly<Record<string, string>>;
  /** Sent to KMS as `GrantTokens`. */
  grantTokens?: readonly string[] | undefined;
  /** Deadline, retries and budget; default: one attempt under a 2000 ms deadline. */
  retrier?: Retrier | undefined;
  signal?: AbortSignal | undefined;
}

const singleAttempt = new Retrier({ maxRetries: 0 });

function failure(keyId: string, region: string | undefined, reason: string, message: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_KMS', message, { causes: [{ key: keyId, region, reason }] });
}

/**
 * Runs one KMS operation; maps any failure but the caller's abort to one coded cause. An answer
 * that arrives after its attempt timed out or was aborted is wiped (its Plaintext zeroed).
 */
async function call<T>(o: KmsCallOptions, keyId: string, op: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const region = o.region ?? regionOf(keyId);
  try {
    return await (o.retrier ?? singleAttempt).run(fn, { signal: o.signal, region, key: keyId, discard: wipeLate });
  } catch (e) {
    rethrowIfAborted(e);
    const f = keyFailure(keyId, region, e);
    throw new EnvelopeError(
      codeForFailures([f], 'ENVELOPE_KMS'),
      `KMS ${op} with ${keyId}${region ? ` in ${region}` : ''} failed: ${f.reason}`,
      {
        cause: e,
        causes: [f],
      },
    );
  }
}

/** An answer nobody waits for any more: zero the data key in it. */
function wipeLate(late: unknown): void {
  const p = (late as { Plaintext?: unknown } | undefined)?.Plaintext;
  if (p instanceof Uint8Array) p.fill(0);
}

/** Copies the SDK's plaintext into a buffer of our own and zeroes the SDK's. */
function takePlaintext(b: Uint8Array | undefined): Uint8Array | undefined {
  if (!(b instanceof Uint8Array)) return undefined;
  const out = new Uint8Array(b);
  b.fill(0);
  return out;
}

function grantTokens(o: KmsCallOptions): string[] | undefined {
  return o.grantTokens?.length ? [...o.grantTokens] : undefined;
}

/** (spec: framework/aws-kms/aws-kms-keyring.md#onencrypt): the response KeyId must be a valid key ARN; it becomes the provider info. */
function edkFrom(
  o: KmsCallOptions,
  asked: string,
  op: string,
  keyId: string | undefined,
  ciphertext: Uint8Array | undefined,
): { edk: EncryptedDataKey; keyArn: string } {
  if (typeof keyId !== 'string' || !parseKeyArn(keyId)) {
    throw failure(
      asked,
      o.region ?? regionOf(asked),
      'MalformedResponse',
      `KMS ${op} with ${asked} returned a KeyId that is not a key ARN`,
    );
  }
  if (!(ciphertext instanceof Uint8Array) || ciphertext.byteLength === 0) {
    throw failure(asked, o.region ?? regionOf(asked), 'MalformedResponse', `KMS ${op} with ${asked} returned no ciphertext`);
  }
  return {
    edk: { providerId: KMS_PROVIDER_ID, providerInfo: new TextEncoder().encode(keyId), ciphertext: new Uint8Array(ciphertext) },
    keyArn: keyId,
  };
}

/**
 * GenerateDataKey with `keyId` (ARN, key id or alias): a new data key of `numberOfBytes` and
 * its EDK (provider info = the key ARN KMS reports). The caller owns `plaintext` and must wipe
 * it; the SDK's buffer is already wiped.
 *
 * @example
 * ```ts
 * const { plaintext, edk } = await generateDataKey({ client, keyId: arn, numberOfBytes: 32, encryptionContext: {}, signal });
 * try { materials.setDataKey(plaintext); materials.addEncryptedDataKey(edk); } finally { plaintext.fill(0); }
 * ```
 */
export async function generateDataKey(
  o: KmsCallOptions & { keyId: string; numberOfBytes: number },
): Promise<{ plaintext: Uint8Array; edk: EncryptedDataKey; keyArn: string }> {
  const r = await call(o, o.keyId, 'GenerateDataKey', (signal) =>
    o.client.generateDataKey(
      { KeyId: o.keyId, NumberOfBytes: o.numberOfBytes, EncryptionContext: { ...o.encryptionContext }, GrantTokens: grantTokens(o) },
      signal,
    ),
  );
  const plaintext = takePlaintext(r.Plaintext);
  try {
    // (spec: framework/aws-kms/aws-kms-keyring.md#onencrypt): the Plaintext length must match the
    // suite's key length.
    if (!plaintext || plaintext.byteLength !== o.numberOfBytes) {
      throw failure(
        o.keyId,
        o.region ?? regionOf(o.keyId),
        'MalformedResponse',
        `KMS GenerateDataKey with ${o.keyId} returned a data key of the wrong length`,
      );
    }
    return { plaintext, ...edkFrom(o, o.keyId, 'GenerateDataKey', r.KeyId, r.CiphertextBlob) };
  } catch (e) {
    plaintext?.fill(0);
    throw e;
  }
}

/**
 * Encrypt an existing data key under `keyId` (ARN, key id or alias): its EDK.
 *
 * @example
 * ```ts
 * const dk = materials.getDataKey();
 * try { materials.addEncryptedDataKey((await encryptDataKey({ client, keyId, plaintext: dk, encryptionContext })).edk); } finally { dk.fill(0); }
 * ```
 */
export async function encryptDataKey(
  o: KmsCallOptions & { keyId: string; plaintext: Uint8Array },
): Promise<{ edk: EncryptedDataKey; keyArn: string }> {
  const r = await call(o, o.keyId, 'Encrypt', (signal) =>
    o.client.encrypt(
      { KeyId: o.keyId, Plaintext: o.plaintext, EncryptionContext: { ...o.encryptionContext }, GrantTokens: grantTokens(o) },
      signal,
    ),
  );
  return edkFrom(o, o.keyId, 'Encrypt', r.KeyId, r.CiphertextBlob);
}

/**
 * Decrypt one EDK ciphertext with `keyArn`, using the client of that key's region. KMS must
 * report `keyArn` itself (else reason `KeyIdMismatch`), and, when `numberOfBytes` is given, a
 * data key of that length (else `MalformedResponse`). The caller owns and must wipe the result.
 *
 * @example
 * ```ts
 * const dk = await decryptDataKey({ client: clients('eu-west-1'), keyArn, ciphertext: edk.ciphertext,
 *   numberOfBytes: materials.suite.keyLength, encryptionContext: materials.encryptionContext, signal });
 * try { materials.setDataKey(dk); } finally { dk.fill(0); }
 * ```
 */
export async function decryptDataKey(
  o: KmsCallOptions & { keyArn: string; ciphertext: Uint8Array; numberOfBytes?: number | undefined },
): Promise<Uint8Array> {
  const region = o.region ?? regionOf(o.keyArn);
  const r = await call(o, o.keyArn, 'Decrypt', (signal) =>
    o.client.decrypt(
      { KeyId: o.keyArn, CiphertextBlob: o.ciphertext, EncryptionContext: { ...o.encryptionContext }, GrantTokens: grantTokens(o) },
      signal,
    ),
  );
  const plaintext = takePlaintext(r.Plaintext);
  // (spec: framework/aws-kms/aws-kms-mrk-keyring.md#ondecrypt): the response KeyId must equal the
  // configured key.
  if (r.KeyId !== o.keyArn) {
    plaintext?.fill(0);
    throw failure(o.keyArn, region, 'KeyIdMismatch', `KMS Decrypt answered for ${String(r.KeyId)}, not the requested ${o.keyArn}`);
  }
  if (!plaintext || plaintext.byteLength === 0 || (o.numberOfBytes !== undefined && plaintext.byteLength !== o.numberOfBytes)) {
    plaintext?.fill(0);
    throw failure(o.keyArn, region, 'MalformedResponse', `KMS Decrypt with ${o.keyArn} returned a data key of the wrong length`);
  }
  return plaintext;
}
