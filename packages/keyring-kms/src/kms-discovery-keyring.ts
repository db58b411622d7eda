/**
 * KmsDiscoveryKeyring (spec: framework/aws-kms/aws-kms-discovery-keyring.md and
 * aws-kms-mrk-discovery-keyring.md): decrypt-only; tries whatever key an EDK names, within a
 * discovery filter (partition and accounts) and a region list. A multi-region key named in
 * another region is decrypted by its replica in a configured region.
 */
import {
  EnvelopeError,
  describeFailures,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';
import { parseArn, withRegion } from './arn.js';
import { KMS_PROVIDER_ID, decryptDataKey } from './data-key.js';
import { reasonOf } from './errors.js';
import type { KmsClientSupplier } from './kms-client.js';
import { Retrier, type RetryOptions } from './retry.js';

export interface DiscoveryFilter {
  partition: string;
  accountIds: readonly string[];
}

export interface KmsDiscoveryKeyringOptions extends RetryOptions {
  clientSupplier: KmsClientSupplier;
  /** Regions to call. A non-mrk key must live in one of them; an mrk key is rewritten to the first. */
  regions: readonly string[];
  discoveryFilter?: DiscoveryFilter;
  grantTokens?: readonly string[];
}

export class KmsDiscoveryKeyring implements Keyring {
  readonly regions: readonly string[];
  readonly discoveryFilter: DiscoveryFilter | undefined;
  readonly #o: KmsDiscoveryKeyringOptions;
  readonly #retrier: Retrier;

  constructor(o: KmsDiscoveryKeyringOptions) {
    if (!o || typeof o.clientSupplier !== 'function') throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'clientSupplier: expected a region → client function');
    if (!Array.isArray(o.regions) || o.regions.length === 0) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'regions: expected at least one region');
    const f = o.discoveryFilter;
    if (f && (!f.partition || !Array.isArray(f.accountIds) || f.accountIds.length === 0)) {
      throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'discoveryFilter: expected { partition, accountIds: [at least one] }');
    }
    this.regions = Object.freeze([...o.regions]);
    this.discoveryFilter = f;
    this.#o = o;
    this.#retrier = new Retrier(o);
  }

  async onEncrypt(): Promise<never> {
    throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'a discovery keyring cannot encrypt: it does not know which key to use');
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], options?: KeyringCallOptions): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    const causes: KeyFailure[] = [];
    for (const e of edks) {
      if (e.providerId !== KMS_PROVIDER_ID) continue;
      const info = Buffer.from(e.providerInfo).toString('utf8');
      const arn = parseArn(info);
      if (!arn || arn.resourceType !== 'key') {
        causes.push({ key: info, reason: 'InvalidArn' });
        continue;
      }
      const f = this.discoveryFilter;
      if (f && (f.partition !== arn.partition || !f.accountIds.includes(arn.account))) continue;
      let keyArn = arn.arn;
      let region = arn.region;
      if (!this.regions.includes(region)) {
        if (!arn.multiRegion) continue; // a single-region key in a region we do not call
        region = this.regions[0]!;
        keyArn = withRegion(arn, region);
      }
      try {
        const dk = await decryptDataKey({
          client: this.#o.clientSupplier(region),
          keyArn,
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
        causes.push(...(err instanceof EnvelopeError && err.causes.length ? err.causes : [{ key: keyArn, region, reason: reasonOf(err), error: err }]));
      }
    }
    if (causes.length) throw new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', `no KMS key could decrypt the data key: ${describeFailures(causes)}`, { causes });
    return materials;
  }
}
