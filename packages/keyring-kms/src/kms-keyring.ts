/**
 * KmsKeyring (spec: framework/aws-kms/aws-kms-keyring.md#aws-kms-keyring)
 * (spec: framework/aws-kms/aws-kms-mrk-keyring.md#aws-kms-mrk-keyring): a generator key
 * (GenerateDataKey) plus further keys (Encrypt of the same data key). Decrypt tries only the EDKs
 * whose ARN matches a configured key ARN — for multi-region keys the same `mrk-` key in any region,
 * called in the configured key's region with the configured ARN.
 */
import {
  EnvelopeError,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
  invalidArgument,
  rethrowIfAborted,
  isAborted,
} from '@envelope/core';
import { isKeyIdentifier, mrkMatch, parseArn, parseKeyArn } from './arn.js';
import { KMS_PROVIDER_ID, decryptDataKey, encryptDataKey, generateDataKey } from './data-key.js';
import { failedAcross, failuresFrom } from './errors.js';
import type { KmsClientSupplier } from './kms-client.js';
import { defaultHealthFor } from './health.js';
import { defaultPacerFor } from './region-pacer.js';
import { Retrier, type RetryOptions } from './retry.js';
import { AttemptCap, checkGrantTokens, checkSupplier, edkArn, unwrapInto } from './keyring-common.js';

export interface KmsKeyringOptions extends RetryOptions {
  /** Generates the data key (GenerateDataKey): a key ARN, an alias ARN, `alias/…` or a key id. */
  generatorKeyId?: string | undefined;
  /** Wraps the data key too (Encrypt). Only key ARNs can decrypt (an alias cannot be matched to an EDK). */
  keyIds?: readonly string[] | undefined;
  /** Region → client. */
  clientSupplier: KmsClientSupplier;
  /** Passed to every KMS call. */
  grantTokens?: readonly string[] | undefined;
  /** Region for identifiers that are not ARNs (`alias/…`, bare key ids). */
  defaultRegion?: string | undefined;
  /**
   * Most KMS Decrypt calls one onDecrypt makes (EDKs tried); default 5. A message's header is
   * untrusted: without a cap, one forged header of 100 EDKs naming this keyring's key costs 100
   * Decrypt calls (issue 15.11). The trade-off: a genuine message whose first 5 matching EDKs
   * all fail cannot be opened by this keyring; raise the cap if yours carry more.
   */
  maxDecryptAttempts?: number | undefined;
}

/**
 * Wraps data keys under AWS KMS keys; wire-compatible with the AWS Encryption SDK's
 * `KmsKeyringNode` and MRK-aware keyrings (provider id `aws-kms`, provider info = key ARN).
 *
 * - `onEncrypt`: without a data key, GenerateDataKey with the generator; then Encrypt under
 *   every further key (concurrently; EDKs keep the configured order). With a data key already
 *   set, the generator is Encrypt-ed like the others. Any failure fails the call with
 *   ENVELOPE_KEYRING_FAILURE listing each key that failed.
 * - `onDecrypt`: tries, one at a time, the `aws-kms` EDKs whose ARN matches a configured key
 *   ARN (an `mrk-` key matches its replicas in any region), calling Decrypt in the configured
 *   key's region with the configured ARN. Fails with ENVELOPE_NO_DECRYPTABLE_KEY listing each
 *   key, region and reason when none succeeds. EDKs of other providers or keys are skipped.
 *
 * Aliases (and bare key ids) may encrypt; they cannot decrypt, since KMS records the key ARN.
 * A keyring configured with any of them reports each as `NotAKeyArn` when a decrypt fails.
 *
 * @example
 * ```ts
 * const keyring = new KmsKeyring({
 *   clientSupplier: kmsClientSupplier(),
 *   generatorKeyId: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234',
 *   keyIds: ['arn:aws:kms:eu-west-1:111122223333:key/0a1b…'],
 *   callTimeoutMs: 1000,
 * });
 * const { ciphertext } = await encrypt(data, { keyring, encryptionContext: { tenant: 'acme' } });
 * ```
 */
export class KmsKeyring implements Keyring {
  readonly generatorKeyId: string | undefined;
  readonly keyIds: readonly string[];
  readonly grantTokens: readonly string[] | undefined;
  readonly #supplier: KmsClientSupplier;
  readonly #defaultRegion: string | undefined;
  readonly #retrier: Retrier;
  readonly #maxAttempts: number;

  constructor(o: KmsKeyringOptions) {
    checkSupplier(o);
    if (o.defaultRegion !== undefined && (typeof o.defaultRegion !== 'string' || o.defaultRegion === '')) {
      throw invalidArgument('defaultRegion', 'expected a region name');
    }
    if (o.keyIds !== undefined && !Array.isArray(o.keyIds)) throw invalidArgument('keyIds', 'expected an array of key identifiers');
    if (o.generatorKeyId === undefined && !o.keyIds?.length) throw invalidArgument('generatorKeyId', 'give a generator and/or keyIds');
    const named: [string, unknown][] = [
      ['generatorKeyId', o.generatorKeyId],
      ...(o.keyIds ?? []).map((k, i): [string, unknown] => [`keyIds[${i}]`, k]),
    ];
    for (const [param, k] of named) {
      if (k === undefined && param === 'generatorKeyId') continue;
      // (spec: framework/aws-kms/aws-kms-keyring.md#initialization): the identifier must be a valid
      // AWS KMS identifier.
      if (typeof k !== 'string' || !isKeyIdentifier(k)) throw invalidArgument(param, 'expected a key ARN, alias ARN, alias/name or key id');
      if (!parseArn(k) && !o.defaultRegion)
        throw invalidArgument(param, `${k} is not an ARN, so its region is unknown; give defaultRegion`);
    }
    this.grantTokens = checkGrantTokens(o.grantTokens);
    this.generatorKeyId = o.generatorKeyId;
    this.keyIds = Object.freeze([...(o.keyIds ?? [])]);
    this.#supplier = o.clientSupplier;
    this.#defaultRegion = o.defaultRegion;
    this.#retrier = new Retrier({ ...o, pacer: o.pacer ?? defaultPacerFor(o.clock), health: o.health ?? defaultHealthFor(o.clock) });
    this.#maxAttempts = AttemptCap.check(o.maxDecryptAttempts);
  }

  /** The configured key ARNs, the only identifiers that can decrypt. */
  get decryptKeyArns(): readonly string[] {
    return this.#all().filter((k) => parseKeyArn(k));
  }

  #all(): string[] {
    return [...(this.generatorKeyId ? [this.generatorKeyId] : []), ...this.keyIds];
  }

  #region(keyId: string): string {
    return parseArn(keyId)?.region ?? this.#defaultRegion!;
  }

  #common(encryptionContext: Readonly<Record<string, string>>, keyId: string, signal: AbortSignal | undefined) {
    const region = this.#region(keyId);
    return { client: this.#supplier(region), region, encryptionContext, grantTokens: this.grantTokens, retrier: this.#retrier, signal };
  }

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    const signal = options?.signal;
    const ec = materials.encryptionContext;
    const wrapWith = [...this.keyIds];
    if (!materials.hasDataKey) {
      if (!this.generatorKeyId)
        throw new EnvelopeError(
          'ENVELOPE_KEYRING_FAILURE',
          'KmsKeyring without a generatorKeyId needs materials that already have a data key',
        );
      const g = this.generatorKeyId;
      let r;
      try {
        r = await generateDataKey({ ...this.#common(ec, g, signal), keyId: g, numberOfBytes: materials.suite.keyLength });
      } catch (e) {
        rethrowIfAborted(e);
        // (spec: framework/aws-kms/aws-kms-keyring.md#onencrypt): a failed GenerateDataKey fails
        // OnEncrypt and leaves the materials alone.
        throw failedAcross('ENVELOPE_KEYRING_FAILURE', 'KMS keyring could not wrap the data key', failuresFrom(g, this.#region(g), e), e);
      }
      try {
        materials.setDataKey(r.plaintext);
      } finally {
        r.plaintext.fill(0);
      }
      materials.addEncryptedDataKey(r.edk);
    } else if (this.generatorKeyId) {
      wrapWith.unshift(this.generatorKeyId);
    }
    if (wrapWith.length === 0) return materials;
    const dk = materials.getDataKey();
    let results;
    try {
      // Independent calls (often in different regions): concurrently; EDKs in configured order.
      results = await Promise.allSettled(
        wrapWith.map((keyId) => encryptDataKey({ ...this.#common(ec, keyId, signal), keyId, plaintext: dk })),
      );
    } finally {
      dk.fill(0);
    }
    const causes: KeyFailure[] = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') causes.push(...failuresFrom(wrapWith[i]!, this.#region(wrapWith[i]!), r.reason));
    });
    const abort = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && isAborted(r.reason));
    if (abort) throw abort.reason;
    if (causes.length) throw failedAcross('ENVELOPE_KEYRING_FAILURE', 'KMS keyring could not wrap the data key', causes);
    for (const r of results) materials.addEncryptedDataKey((r as PromiseFulfilledResult<{ edk: EncryptedDataKey }>).value.edk);
    return materials;
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    const keyArns = this.decryptKeyArns;
    const causes: KeyFailure[] = [];
    const cap = new AttemptCap(this.#maxAttempts);
    let ours = false;
    for (const e of edks) {
      if (e.providerId !== KMS_PROVIDER_ID) continue;
      ours = true;
      const arn = edkArn(e);
      if (!arn) {
        // (spec: framework/aws-kms/aws-kms-mrk-keyring.md#ondecrypt): provider info must be a key
        // ARN "or OnDecrypt MUST fail"; we record the failure and still try the other EDKs (a
        // message another EDK opens is fine).
        causes.push({ key: safeText(e.providerInfo), reason: 'InvalidArn' });
        continue;
      }
      const key = keyArns.find((k) => mrkMatch(k, arn.arn));
      if (!key) continue;
      if (!cap.take(causes, key, this.#region(key))) continue;
      const decrypted = await unwrapInto(materials, causes, key, this.#region(key), () =>
        decryptDataKey({
          ...this.#common(materials.encryptionContext, key, options?.signal),
          keyArn: key,
          ciphertext: e.ciphertext,
          numberOfBytes: materials.suite.keyLength,
        }),
      );
      if (decrypted) return materials;
    }
    if (ours) {
      // An alias might name the key of any of these EDKs: we cannot tell, so say why.
      for (const k of this.#all()) if (!parseKeyArn(k)) causes.push({ key: k, region: this.#region(k), reason: 'NotAKeyArn' });
    }
    if (causes.length) throw failedAcross('ENVELOPE_NO_DECRYPTABLE_KEY', 'no KMS key could decrypt the data key', causes);
    return materials;
  }
}

function safeText(b: Uint8Array): string {
  return Buffer.from(b).toString('utf8').slice(0, 200);
}
