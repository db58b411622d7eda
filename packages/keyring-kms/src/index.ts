/**
 * @envelope/keyring-kms: AWS KMS keyrings on @aws-sdk/client-kms v3, wire-compatible with the
 * AWS Encryption SDK's KMS keyrings (provider id `aws-kms`, provider info = the key ARN); every
 * call under a deadline and the caller's AbortSignal, with backoff, jitter and a retry budget.
 */
export { KmsKeyring } from './kms-keyring.js';
export type { KmsKeyringOptions } from './kms-keyring.js';
export { KmsDiscoveryKeyring } from './kms-discovery-keyring.js';
export type { KmsDiscoveryKeyringOptions, DiscoveryFilter } from './kms-discovery-keyring.js';
export { kmsClientSupplier, fromSdkClient } from './kms-client.js';
export type { KmsClient, KmsClientSupplier, KmsClientSupplierOptions } from './kms-client.js';
export { KMS_PROVIDER_ID, generateDataKey, encryptDataKey, decryptDataKey, kmsOperations } from './data-key.js';
export { Retrier, RetryBudget, withDeadline } from './retry.js';
export type { RetryOptions } from './retry.js';
export { reasonOf, isTransient } from './errors.js';
export { parseArn, parseKeyArn, mrkMatch, regionOf, withRegion } from './arn.js';
export type { KeyArn } from './arn.js';
