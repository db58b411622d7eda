/**
 * KmsDiscoveryKeyring
 * (spec: framework/aws-kms/aws-kms-discovery-keyring.md#aws-kms-discovery-keyring)
 * (spec: framework/aws-kms/aws-kms-mrk-discovery-keyring.md#aws-kms-mrk-discovery-keyring):
 * decrypt-only; tries whatever key an EDK names, within a discovery filter (partition and accounts)
 * and a region list. A multi-region key named in another region is decrypted by its replica in the
 * first configured region.
 */
import {
  EnvelopeError,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
  invalidArgument,
} from '@envelope/core';
import { isRegionName, withRegion } from './arn.js';
import { KMS_PROVIDER_ID, decryptDataKey } from './data-key.js';
import { failedAcross } from './errors.js';
import type { KmsClientSupplier } from './kms-client.js';
import { AttemptCap, checkGrantTokens, checkSupplier, edkArn, unwrapInto } from './keyring-common.js';
import { defaultHealthFor } from './health.js';
import { defaultPacerFor } from './region-pacer.js';
import { Retrier, type RetryOptions } from './retry.js';

/** Only keys of these accounts in this partition are tried. */
export interface DiscoveryFilter {
  partition: string;
  accountIds: readonly string[];
}

export interface KmsDiscoveryKeyringOptions extends RetryOptions {
  /** Region → client. */
  clientSupplier: KmsClientSupplier;
  /**
   * Regions this keyring calls. A single-region key must live in one of them; a multi-region
   * key is called in its own region if listed, else as its replica in the first. Omitted:
   * every key is called in its own region, which the (untrusted) header names: only a
   * well-formed region name is called, and the client supplier keeps a bounded number of
   * clients (issue 15.i3). Prefer listing the regions.
   */
  regions?: readonly string[] | undefined;
  discoveryFilter?: DiscoveryFilter | undefined;
  /** Passed to every KMS call. */
  grantTokens?: readonly string[] | undefined;
  /** Most KMS Decrypt calls one onDecrypt makes (EDKs tried); default 5 (see {@link KmsKeyringOptions.maxDecryptAttempts}). */
  maxDecryptAttempts?: number | undefined;
}

/**
 * Decrypts with the key each `aws-kms` EDK names (KMS decides whether the caller may): for
 * messages whose keys are not known in advance. Restrict it with a `discoveryFilter` (and IAM)
 * to the accounts you trust. Cannot encrypt.
 *
 * For each `aws-kms` EDK, in order: the provider info must be a key ARN (else an `InvalidArn`
 * failure is recorded); keys outside the filter are skipped; a single-region key is tried only
 * in its own region, and only if that region is listed; an `mrk-` key is tried in its own
 * region if listed, otherwise with its ARN rewritten to the first listed region. KMS must
 * answer for exactly the ARN asked. The first success sets the data key.
 *
 * Note: the spec says a discovery keyring given materials that already hold a data key MUST
 * fail; the `Keyring` contract here (core) returns them unchanged, like every other keyring.
 *
 * @example
 * ```ts
 * const keyring = new KmsDiscoveryKeyring({
 *   clientSupplier: kmsClientSupplier(),
 *   regions: ['eu-west-1', 'us-east-1'],
 *   discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] },
 * });
 * const { plaintext } = await decrypt(message, { keyring });
 * ```
 */
export class KmsDiscoveryKeyring implements Keyring {
  readonly regions: readonly string[] | undefined;
  readonly discoveryFilter: DiscoveryFilter | undefined;
  readonly grantTokens: readonly string[] | undefined;
  readonly #supplier: KmsClientSupplier;
  readonly #retrier: Retrier;
  readonly #maxAttempts: number;

  constructor(o: KmsDiscoveryKeyringOptions) {
    checkSupplier(o);
    if (
      o.regions !== undefined &&
      (!Array.isArray(o.regions) || o.regions.length === 0 || o.regions.some((r) => typeof r !== 'string' || !isRegionName(r)))
    ) {
      throw invalidArgument('regions', 'expected a non-empty array of region names (or omit it)');
    }
    const f = o.discoveryFilter;
    if (
      f !== undefined &&
      (typeof f?.partition !== 'string' ||
        !f.partition ||
        !Array.isArray(f.accountIds) ||
        f.accountIds.length === 0 ||
        f.accountIds.some((a) => typeof a !== 'string' || !a))
    ) {
      throw invalidArgument('discoveryFilter', 'expected { partition, accountIds: [at least one account id] }');
    }
    this.regions = o.regions ? Object.freeze([...o.regions]) : undefined;
    this.discoveryFilter = f ? Object.freeze({ partition: f.partition, accountIds: Object.freeze([...f.accountIds]) }) : undefined;
    this.grantTokens = checkGrantTokens(o.grantTokens);
    this.#supplier = o.clientSupplier;
    this.#retrier = new Retrier({ ...o, pacer: o.pacer ?? defaultPacerFor(o.clock), health: o.health ?? defaultHealthFor(o.clock) });
    this.#maxAttempts = AttemptCap.check(o.maxDecryptAttempts);
  }

  /** Always fails: a discovery keyring does not know which key to encrypt with. */
  async onEncrypt(): Promise<never> {
    throw new EnvelopeError(
      'ENVELOPE_KEYRING_FAILURE',
      'KmsDiscoveryKeyring cannot encrypt: it has no key to encrypt with (use KmsKeyring)',
    );
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    const causes: KeyFailure[] = [];
    const cap = new AttemptCap(this.#maxAttempts);
    for (const e of edks) {
      if (e.providerId !== KMS_PROVIDER_ID) continue;
      const arn = edkArn(e);
      if (!arn) {
        causes.push({ key: Buffer.from(e.providerInfo).toString('utf8').slice(0, 200), reason: 'InvalidArn' });
        continue;
      }
      const f = this.discoveryFilter;
      if (f && (f.partition !== arn.partition || !f.accountIds.includes(arn.account))) continue;
      const target = this.#target(arn);
      if (!target) continue;
      if (!isRegionName(target.region)) {
        // An untrusted header chose this region: never build a client (or a hostname) from junk.
        causes.push({ key: arn.arn.slice(0, 200), region: target.region.slice(0, 64), reason: 'InvalidArn' });
        continue;
      }
      if (!cap.take(causes, target.keyArn, target.region)) continue;
      const decrypted = await unwrapInto(materials, causes, target.keyArn, target.region, () =>
        decryptDataKey({
          client: this.#supplier(target.region),
          region: target.region,
          keyArn: target.keyArn,
          ciphertext: e.ciphertext,
          encryptionContext: materials.encryptionContext,
          grantTokens: this.grantTokens,
          retrier: this.#retrier,
          signal: options?.signal,
          numberOfBytes: materials.suite.keyLength,
        }),
      );
      if (decrypted) return materials;
    }
    if (causes.length) throw failedAcross('ENVELOPE_NO_DECRYPTABLE_KEY', 'no KMS key could decrypt the data key', causes);
    return materials;
  }

  /** Where (and as which ARN) to call Decrypt for a key, or undefined when not ours to try. */
  #target(arn: NonNullable<ReturnType<typeof edkArn>>): { region: string; keyArn: string } | undefined {
    if (!this.regions || this.regions.includes(arn.region)) return { region: arn.region, keyArn: arn.arn };
    // (spec: framework/aws-kms/aws-kms-mrk-discovery-keyring.md#ondecrypt): an MRK is decrypted by
    // the replica in the client's region.
    if (arn.multiRegion) return { region: this.regions[0]!, keyArn: withRegion(arn, this.regions[0]!) };
    return undefined;
  }
}
