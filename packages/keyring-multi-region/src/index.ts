/**
 * @envelope/keyring-multi-region: the data key wrapped in every region; health-aware, hedged
 * decrypt with circuit breakers and a deadline.
 */
export { MultiRegionKeyring, reasonOf } from './multi-region-keyring.js';
export type { MultiRegionKeyringOptions, EncryptPolicy, MultiRegionEvent } from './multi-region-keyring.js';
export type { KmsOperations } from './kms-operations.js';
export { HealthRegistry, sharedHealthRegistry } from './health.js';
export type { RegionHealth, HealthEvent, HealthOptions } from './health.js';
export { CircuitBreaker } from './circuit-breaker.js';
export type { BreakerOptions, BreakerState } from './circuit-breaker.js';
export { hedge } from './hedge.js';
export type { Candidate, HedgeOptions, HedgeResult } from './hedge.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { parseKeyArn, sameKey } from './arn.js';
export type { KeyArn } from './arn.js';
