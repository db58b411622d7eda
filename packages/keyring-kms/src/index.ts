/**
 * @envelope/keyring-kms: AWS KMS keyrings on @aws-sdk/client-kms v3, wire-compatible with the
 * AWS Encryption SDK's KMS keyrings (provider id `aws-kms`, provider info = the key ARN); every
 * call under a deadline and the caller's AbortSignal, with backoff, jitter, a retry budget and
 * per-region quota pacing; one classification of failures (failure-kind.ts) shared with the
 * multi-region keyring.
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
export { credentialsFromEnv } from './env-credentials.js';
export { checkSdkClientSettings, sdkClientConfig } from './sdk-client-settings.js';
export type { SdkClientSettings } from './sdk-client-settings.js';
export type { StaticCredentials } from './env-credentials.js';
export type {
  KmsClient,
  KmsClientSupplier,
  CachingKmsClientSupplier,
  KmsClientSupplierOptions,
  GenerateDataKeyInput,
  EncryptInput,
  DecryptInput,
  ReEncryptInput,
} from './kms-client.js';
export { KMS_PROVIDER_ID, generateDataKey, encryptDataKey, decryptDataKey } from './data-key.js';
export type { KmsCallOptions } from './data-key.js';
export { kmsOperations } from './kms-operations.js';
export type { KmsOperations } from './kms-operations.js';
export { Retrier, RetryBudget } from './retry.js';
export type { RetryOptions, RunOptions } from './retry.js';
export { systemClock, sleep, ManualClock } from './clock.js';
export type { Clock } from './clock.js';
export { Deadline, withDeadline, remainingMs, abortedError } from './deadline.js';
export { HealthRegistry, sharedHealthRegistry, defaultHealthFor, circuitOpenError } from './health.js';
export type { RegionHealth, HealthEvent, HealthOptions } from './health.js';
export { CircuitBreaker } from './circuit-breaker.js';
export type { BreakerOptions, BreakerState } from './circuit-breaker.js';
export { RegionPacer, sharedRegionPacer, defaultPacerFor, DEFAULT_KMS_QUOTAS, DEFAULT_KMS_QUOTA } from './region-pacer.js';
export type { RegionPacerOptions, RegionPace } from './region-pacer.js';
export {
  reasonOf,
  classifyFailure,
  kindOfReason,
  countsAgainstRegion,
  isTransient,
  isDeadlineReason,
  codeForFailures,
  CIRCUIT_OPEN,
  CLIENT_THROTTLED,
  SLOW,
  ATTEMPT_LIMIT,
} from './failure-kind.js';
export type { FailureKind, FailureVerdict } from './failure-kind.js';
export { keyFailure, failuresFrom, failedAcross } from './errors.js';
export { parseArn, parseKeyArn, isKeyIdentifier, isMultiRegionIdentifier, isRegionName, mrkMatch, regionOf, withRegion } from './arn.js';
export type { KeyArn } from './arn.js';
