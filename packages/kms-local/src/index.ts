/**
 * @envelope/kms-local: a KMS-compatible HTTP server (AWS JSON 1.1, SigV4-checked) with several
 * regions, multi-region keys, rotation, persistence and fault injection — the embedded default
 * behind the demo and the integration tests.
 *
 * @example
 * ```ts
 * import { startKmsLocal } from '@envelope/kms-local';
 * const kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'] });
 * const client = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
 * ```
 */
export { startKmsLocal, DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, DEFAULT_REGIONS, MAX_BODY_BYTES } from './server.js';
export type { KmsLocal, KmsLocalOptions } from './server.js';
export { isLoopback, isLoopbackHost } from './admin.js';
export { parseFault, TokenBucket } from './faults.js';
export type { Fault, FaultMode } from './faults.js';
export type { KmsLocalClock } from './clock.js';
export { KmsError } from './errors.js';
export type { KmsErrorType } from './errors.js';
export { verifySigV4, signRequest, MAX_SKEW_MS } from './sigv4.js';
export type { Credentials, SignedRequest } from './sigv4.js';
