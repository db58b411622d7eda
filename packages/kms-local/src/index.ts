/**
 * @envelope/kms-local: a KMS-compatible HTTP server (AWS JSON 1.1, SigV4-checked) with several
 * regions, multi-region keys, rotation, persistence and fault injection — the embedded default
 * behind the demo and the integration tests.
 */
export { startKmsLocal, isLoopback, DEFAULT_CREDENTIALS, DEFAULT_REGIONS, MAX_BODY_BYTES } from './server.js';
export type { KmsLocal, KmsLocalOptions } from './server.js';
export type { Fault, FaultMode } from './faults.js';
export { parseFault } from './faults.js';
export type { Credentials } from './sigv4.js';
export { verifySigV4, MAX_SKEW_MS } from './sigv4.js';
