/**
 * The three building blocks every KMS keyring here uses (and the multi-region keyring builds
 * on): one KMS call, one key, one region, under a deadline, with retries, checking what KMS
 * returns and wiping the SDK's plaintext buffers.
 */
import { EnvelopeError, type EncryptedDataKey } from '@envelope/core';
import { parseKeyArn } from './arn.js';
import { reasonOf } from './errors.js';
import type { KmsClient, KmsClientSupplier } from './kms-client.js';
import { Retrier } from './retry.js';

export const KMS_PROVIDER_ID = 'aws-kms';

interface Common {
  client: KmsClient;
  encryptionContext: Readonly<Record<string, string>>;
  grantTokens?: readonly string[] | undefined;
  retrier: Retrier;
  signal?: AbortSignal | undefined;
}

function kmsError(keyId: string, region: string | undefined, e: unknown): EnvelopeError {
  if (e instanceof EnvelopeError && (e.code === 'ENVELOPE_ABORTED' || e.causes.length > 0)) return e;
  const reason = reasonOf(e);
  return new EnvelopeError('ENVELOPE_KMS', `KMS call for ${keyId} failed: ${reason}`, { cause: e, causes: [{ key: keyId, region, reason, error: e }] });
}

function copyAndWipe(b: Uint8Array | undefined): Uint8Array | undefined {
  if (!b) return undefined;
  const out = new Uint8Array(b);
  b.fill(0);
  return out;
}

function edk(keyArn: string | undefined, ciphertext: Uint8Array | undefined, asked: string): EncryptedDataKey {
  if (!keyArn || !parseKeyArn(keyArn) || !ciphertext?.byteLength) {
    throw new EnvelopeError('ENVELOPE_KMS', `KMS returned an invalid response for ${asked}`, { causes: [{ key: asked, reason: 'MalformedResponse' }] });
  }
  return { providerId: KMS_PROVIDER_ID, providerInfo: Buffer.from(keyArn, 'utf8'), ciphertext: new Uint8Array(ciphertext) };
}

/** GenerateDataKey: a data key (the caller owns and wipes it) and its EDK. */
export async function generateDataKey(o: Common & { keyId: string; numberOfBytes: number }): Promise<{ plaintext: Uint8Array; edk: EncryptedDataKey; keyArn: string }> {
  const region = parseKeyArn(o.keyId)?.region;
  let r;
  try {
    r = await o.retrier.run(
      (s) => o.client.generateDataKey({ KeyId: o.keyId, NumberOfBytes: o.numberOfBytes, EncryptionContext: { ...o.encryptionContext }, GrantTokens: o.grantTokens ? [...o.grantTokens] : undefined }, s),
      o.signal,
    );
  } catch (e) {
    throw kmsError(o.keyId, region, e);
  }
  const plaintext = copyAndWipe(r.Plaintext);
  if (!plaintext || plaintext.byteLength !== o.numberOfBytes) {
    plaintext?.fill(0);
    throw new EnvelopeError('ENVELOPE_KMS', `GenerateDataKey for ${o.keyId} returned a key of the wrong length`, { causes: [{ key: o.keyId, region, reason: 'MalformedResponse' }] });
  }
  try {
    return { plaintext, edk: edk(r.KeyId, r.CiphertextBlob, o.keyId), keyArn: r.KeyId! };
  } catch (e) {
    plaintext.fill(0);
    throw e;
  }
}

/** Encrypt: wraps an existing data key under another key. */
export async function encryptDataKey(o: Common & { keyId: string; plaintext: Uint8Array }): Promise<{ edk: EncryptedDataKey; keyArn: string }> {
  const region = parseKeyArn(o.keyId)?.region;
  let r;
  try {
    r = await o.retrier.run(
      (s) => o.client.encrypt({ KeyId: o.keyId, Plaintext: o.plaintext, EncryptionContext: { ...o.encryptionContext }, GrantTokens: o.grantTokens ? [...o.grantTokens] : undefined }, s),
      o.signal,
    );
  } catch (e) {
    throw kmsError(o.keyId, region, e);
  }
  return { edk: edk(r.KeyId, r.CiphertextBlob, o.keyId), keyArn: r.KeyId! };
}

/** Decrypt one EDK with `keyArn` (in that ARN's region); KMS must report that same key. */
export async function decryptDataKey(o: Common & { keyArn: string; ciphertext: Uint8Array; numberOfBytes: number }): Promise<Uint8Array> {
  const region = parseKeyArn(o.keyArn)?.region;
  let r;
  try {
    r = await o.retrier.run(
      (s) => o.client.decrypt({ KeyId: o.keyArn, CiphertextBlob: o.ciphertext, EncryptionContext: { ...o.encryptionContext }, GrantTokens: o.grantTokens ? [...o.grantTokens] : undefined }, s),
      o.signal,
    );
  } catch (e) {
    throw kmsError(o.keyArn, region, e);
  }
  const plaintext = copyAndWipe(r.Plaintext);
  if (r.KeyId !== o.keyArn) {
    plaintext?.fill(0);
    throw new EnvelopeError('ENVELOPE_KMS', `KMS decrypted with ${r.KeyId ?? 'no key'}, not the requested ${o.keyArn}`, {
      causes: [{ key: o.keyArn, region, reason: 'KeyIdMismatch' }],
    });
  }
  if (!plaintext || plaintext.byteLength !== o.numberOfBytes) {
    plaintext?.fill(0);
    throw new EnvelopeError('ENVELOPE_KMS', `KMS returned a data key of the wrong length for ${o.keyArn}`, { causes: [{ key: o.keyArn, region, reason: 'MalformedResponse' }] });
  }
  return plaintext;
}

/**
 * The operations the multi-region keyring needs (its `KmsOperations`), over a client supplier.
 * Each call is one attempt under the caller's signal: the multi-region keyring hedges across
 * regions instead of retrying in place.
 */
export function kmsOperations(supplier: KmsClientSupplier, o: { grantTokens?: readonly string[]; retrier?: Retrier } = {}) {
  const retrier = o.retrier ?? new Retrier({ maxRetries: 0, callTimeoutMs: 60_000 });
  return {
    async generateDataKey(a: { region: string; keyId: string; numberOfBytes: number; encryptionContext: Readonly<Record<string, string>>; signal: AbortSignal }) {
      const r = await generateDataKey({ client: supplier(a.region), keyId: a.keyId, numberOfBytes: a.numberOfBytes, encryptionContext: a.encryptionContext, grantTokens: o.grantTokens, retrier, signal: a.signal });
      return { plaintext: r.plaintext, ciphertext: r.edk.ciphertext, keyArn: r.keyArn };
    },
    async encrypt(a: { region: string; keyId: string; plaintext: Uint8Array; encryptionContext: Readonly<Record<string, string>>; signal: AbortSignal }) {
      const r = await encryptDataKey({ client: supplier(a.region), keyId: a.keyId, plaintext: a.plaintext, encryptionContext: a.encryptionContext, grantTokens: o.grantTokens, retrier, signal: a.signal });
      return { ciphertext: r.edk.ciphertext, keyArn: r.keyArn };
    },
    async decrypt(a: { region: string; keyArn: string; ciphertext: Uint8Array; encryptionContext: Readonly<Record<string, string>>; signal: AbortSignal }) {
      // The data-key length is checked by the caller (it knows the suite).
      const client = supplier(a.region);
      const r = await retrier.run((s) => client.decrypt({ KeyId: a.keyArn, CiphertextBlob: a.ciphertext, EncryptionContext: { ...a.encryptionContext }, GrantTokens: o.grantTokens ? [...o.grantTokens] : undefined }, s), a.signal).catch((e) => {
        throw kmsError(a.keyArn, a.region, e);
      });
      const plaintext = copyAndWipe(r.Plaintext);
      if (r.KeyId !== a.keyArn || !plaintext) {
        plaintext?.fill(0);
        throw new EnvelopeError('ENVELOPE_KMS', `KMS decrypted with ${r.KeyId ?? 'no key'}, not ${a.keyArn}`, { causes: [{ key: a.keyArn, region: a.region, reason: 'KeyIdMismatch' }] });
      }
      return { plaintext };
    },
  };
}
