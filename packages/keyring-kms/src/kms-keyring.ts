/**
 * KmsKeyring (spec: framework/aws-kms/aws-kms-keyring.md, aws-kms-mrk-keyring.md): a generator
 * key (GenerateDataKey) plus further keys (Encrypt of the same data key). Decrypt tries only
 * the EDKs whose ARN matches a configured key — for multi-region keys, the same mrk- key in any
 * region, called in the configured key's region with the configured ARN.
 */
import {
  EnvelopeError,
  describeFailures,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';
import { mrkMatch, parseArn, parseKeyArn } from './arn.js';
import { KMS_PROVIDER_ID, decryptDataKey, encryptDataKey, generateDataKey } from './data-key.js';
import { reasonOf } from './errors.js';
import type { KmsClientSupplier } from './kms-client.js';
import { Retrier, type RetryOptions } from './retry.js';

export interface KmsKeyringOptions extends RetryOptions {
  /** Generates the data key. An ARN, key id or alias (aliases encrypt only). */
  generatorKeyId?: string;
  /** Wrap the data key under these too. */
  keyIds?: readonly string[];
  clientSupplier: KmsClientSupplier;
  grantTokens?: readonly string[];
  /** Region for key ids that are not ARNs. */
  defaultRegion?: string;
}

export class KmsKeyring implements Keyring {
  readonly generatorKeyId: string | undefined;
  readonly keyIds: readonly string[];
  readonly #o: KmsKeyringOptions;
  readonly #retrier: Retrier;

  constructor(o: KmsKeyringOptions) {
    if (!o || typeof o.clientSupplier !== 'function') throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'clientSupplier: expected a region → client function');
    if (!o.generatorKeyId && !o.keyIds?.length) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'KmsKeyring: give generatorKeyId and/or keyIds');
    for (const [p, k] of [['generatorKeyId', o.generatorKeyId], ...(o.keyIds ?? []).map((k, i) => [`keyIds[${i}]`, k])] as [string, string | undefined][]) {
      if (k !== undefined && (typeof k !== 'string' || k === '')) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${p}: expected a key ARN, key id or alias`);
      if (k && !parseArn(k) && !o.defaultRegion) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${p}: ${k} is not an ARN; give defaultRegion`);
    }
    this.generatorKeyId = o.generatorKeyId;
    this.keyIds = Object.freeze([...(o.keyIds ?? [])]);
    this.#o = o;
    this.#retrier = new Retrier(o);
  }

  #region(keyId: string): string {
    return parseArn(keyId)?.region ?? this.#o.defaultRegion!;
  }

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    const ec = materials.encryptionContext;
    const common = { encryptionContext: ec, grantTokens: this.#o.grantTokens, retrier: this.#retrier, signal: options?.signal };
    const wrapWith = [...this.keyIds];
    if (this.generatorKeyId) {
      if (!materials.hasDataKey) {
        const r = await generateDataKey({ ...common, client: this.#o.clientSupplier(this.#region(this.generatorKeyId)), keyId: this.generatorKeyId, numberOfBytes: materials.suite.keyLength });
        try {
          materials.setDataKey(r.plaintext);
        } finally {
          r.plaintext.fill(0);
        }
        materials.addEncryptedDataKey(r.edk);
      } else {
        wrapWith.unshift(this.generatorKeyId);
      }
    } else if (!materials.hasDataKey) {
      throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'KmsKeyring without a generator needs materials that already have a data key');
    }
    const dk = materials.getDataKey();
    try {
      for (const keyId of wrapWith) {
        const r = await encryptDataKey({ ...common, client: this.#o.clientSupplier(this.#region(keyId)), keyId, plaintext: dk });
        materials.addEncryptedDataKey(r.edk);
      }
    } finally {
      dk.fill(0);
    }
    return materials;
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], options?: KeyringCallOptions): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    // Decrypt needs ARNs (spec): aliases and bare ids cannot be matched against an EDK.
    const configured = [this.generatorKeyId, ...this.keyIds].filter((k): k is string => !!k && !!parseKeyArn(k));
    const causes: KeyFailure[] = [];
    for (const e of edks) {
      if (e.providerId !== KMS_PROVIDER_ID) continue;
      const arn = Buffer.from(e.providerInfo).toString('utf8');
      if (!parseKeyArn(arn)) continue;
      const key = configured.find((k) => mrkMatch(k, arn));
      if (!key) continue;
      try {
        const dk = await decryptDataKey({
          client: this.#o.clientSupplier(this.#region(key)),
          keyArn: key,
          ciphertext: e.ciphertext,
          encryptionContext: materials.encryptionContext,
          grantTokens: this.#o.grantTokens,
          retrier: this.#retrier,
          signal: options?.signal,
          numberOfBytes: materials.suite.keyLength,
        });
        try {
          materials.setDataKey(dk);
        } finally {
          dk.fill(0);
        }
        return materials;
      } catch (err) {
        if (err instanceof EnvelopeError && err.code === 'ENVELOPE_ABORTED') throw err;
        causes.push(...(err instanceof EnvelopeError && err.causes.length ? err.causes : [{ key, region: this.#region(key), reason: reasonOf(err), error: err }]));
      }
    }
    if (causes.length) {
      throw new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', `no KMS key could decrypt the data key: ${describeFailures(causes)}`, { causes });
    }
    return materials;
  }
}
