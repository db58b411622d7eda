/**
 * @envelope/keyring-kms: AWS KMS keyrings on @aws-sdk/client-kms v3, wire-compatible with the
 * AWS Encryption SDK's KMS keyrings (provider id `aws-kms`, provider info = the key ARN); every
 * call under a deadline and the caller's AbortSignal, with backoff, jitter and a retry budget.
 *
 * @example
 * ```ts
 * import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
 * const keyring = new KmsKeyring({ clientSupplier: kmsClientSupplier(), generatorKeyId: arn });
 * ```
 */
export { KmsKeyring } from './kms-keyring.js';
export type { KmsKeyringOptions } from './kms-keyring.js';
export { KmsDiscoveryKeyring } from './kms-discovery-keyring.js';
export type { KmsDiscoveryKeyringOptions, DiscoveryFilter } from './kms-discovery-keyring.js';
export { kmsClientSupplier, fromSdkClient } from './kms-client.js';
export type {
  KmsClient,
  KmsClientSupplier,
  KmsClientSupplierOptions,
  GenerateDataKeyInput,
  EncryptInput,
  DecryptInput,
  ReEncryptInput,
} from './kms-client.js';
export { KMS_PROVIDER_ID, generateDataKey, encryptDataKey, decryptDataKey, kmsOperations } from './data-key.js';
export type { KmsCallOptions } from './data-key.js';
export { Retrier, RetryBudget, withDeadline, realClock } from './retry.js';
export type { RetryOptions, RetryClock } from './retry.js';
export { reasonOf, isTransient, keyFailure, failuresFrom } from './errors.js';
export { parseArn, parseKeyArn, isKeyIdentifier, isMultiRegionIdentifier, mrkMatch, regionOf, withRegion } from './arn.js';
export type { KeyArn } from './arn.js';
