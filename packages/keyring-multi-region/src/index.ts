/**
 * @envelope/keyring-multi-region: the data key wrapped in every region; health-aware, hedged
 * decrypt with circuit breakers, quota pacing and a deadline. Failure classification, deadlines,
 * the clock and the pacer come from @envelope/keyring-kms (re-exported here where callers of
 * this package need them).
 */
export { MultiRegionKeyring } from './multi-region-keyring.js';
export type { MultiRegionKeyringOptions, EncryptPolicy, MultiRegionEvent } from './options.js';
export { hedge } from './hedge.js';
export { rankKeys, hedgeDelay } from './ranking.js';
export type { RankedKey, HedgeDelays } from './ranking.js';
export type { Candidate, HedgeOptions, HedgeResult } from './hedge.js';
export { parseKeyArn, sameKey } from './arn.js';
export type { KeyArn } from './arn.js';
export { decryptPairs } from './decrypt.js';
export { CoverageJudge, regionCoverage } from './coverage.js';
export type { RegionCoverage } from './coverage.js';
// Region health and breakers live in keyring-kms (its KMS keyrings use them too); re-exported.
export {
  systemClock,
  ManualClock,
  RegionPacer,
  sharedRegionPacer,
  HealthRegistry,
  sharedHealthRegistry,
  CircuitBreaker,
} from '@envelope/keyring-kms';
export type { Clock, KmsOperations, RegionHealth, HealthEvent, HealthOptions, BreakerOptions, BreakerState } from '@envelope/keyring-kms';
