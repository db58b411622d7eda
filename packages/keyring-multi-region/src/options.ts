/** The multi-region keyring's options and events, and their checks at the edge. */
import { invalidArgument } from '@envelope/core';
import type { HealthRegistry, KmsOperations, RegionPacer, RetryBudget } from '@envelope/keyring-kms';
import { requireKeyArn, type KeyArn } from './arn.js';

/** What an encrypt needs when a region is down: every region, the primary, or at least n regions. */
export type EncryptPolicy = 'all' | 'primary' | { quorum: number };

export interface MultiRegionKeyringOptions {
  /** One key per region; the first is the primary. ARNs (decrypt needs them). */
  keys: readonly { keyId: string }[];
  kms: KmsOperations;
  /** Default `all`. */
  encryptPolicy?: EncryptPolicy;
  /** Fixed hedge delay (ms). Default: from each region's observed latency, within [hedgeFloorMs, hedgeCeilingMs]. */
  hedgeAfterMs?: number;
  hedgeFloorMs?: number;
  hedgeCeilingMs?: number;
  /** Bound on a whole onEncrypt/onDecrypt. Default 5000 ms. */
  deadlineMs?: number;
  /** Bound on one KMS call (the wait for a quota token included). Default: deadlineMs. */
  callTimeoutMs?: number;
  /** The local region: tried first when healthy. Default: the primary's region. */
  preferredRegion?: string;
  /**
   * Region health and breakers (its clock is the keyring's clock); default the process-wide
   * registry. Give every keyring of a batch the same one: once a region's breaker opens, later
   * calls there fail at once instead of each waiting out a deadline.
   */
  health?: HealthRegistry;
  /**
   * Paces calls per region to the region's (learned) quota. Default: keyring-kms's process-wide
   * pacer, or a pacer of its own when `health` runs on another clock than the system's.
   */
  pacer?: RegionPacer;
  /** Retries of throttled calls (in the same region, paced): at most this many per call. Default 2. */
  maxThrottleRetries?: number;
  /** The budget those retries draw on (default: one per keyring, 10% of calls). */
  retryBudget?: RetryBudget;
  /** Audit events: failover, degraded encrypt, per-call outcomes. */
  onEvent?: (event: MultiRegionEvent) => void;
}

/**
 * What the keyring reports through `onEvent`. `call` outcome `skipped`: not called, because the
 * region's breaker is open (reason `CircuitOpen`).
 */
export type MultiRegionEvent =
  | {
      type: 'encrypt';
      outcome: 'complete' | 'degraded';
      regions: string[];
      missingRegions: string[];
      latencyMs: number;
    }
  | { type: 'decrypt'; region: string; keyArn: string; failover: boolean; attempts: number; latencyMs: number }
  | {
      type: 'call';
      operation: 'GenerateDataKey' | 'Encrypt' | 'Decrypt';
      region: string;
      keyArn: string;
      outcome: 'success' | 'failure' | 'aborted' | 'skipped';
      latencyMs: number;
      reason?: string;
    };

/** Parses the keys: ARNs, at most one per region; the first is the primary. */
export function checkKeys(keys: unknown): KeyArn[] {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalidArgument('keys', 'expected at least one { keyId } (the first is the primary)');
  }
  const parsed = keys.map((k: { keyId?: unknown } | undefined, i) => requireKeyArn(k?.keyId, `keys[${i}].keyId`));
  const regions = new Set<string>();
  for (const [i, k] of parsed.entries()) {
    if (regions.has(k.region)) throw invalidArgument(`keys[${i}].keyId`, `a second key in region ${k.region}`);
    regions.add(k.region);
  }
  return parsed;
}

/** Checks an encrypt policy against the number of keys. */
export function checkPolicy(policy: unknown, keyCount: number): EncryptPolicy {
  const p = policy ?? 'all';
  const ok =
    p === 'all' ||
    p === 'primary' ||
    (typeof p === 'object' &&
      p !== null &&
      Number.isInteger((p as { quorum?: unknown }).quorum) &&
      (p as { quorum: number }).quorum >= 1 &&
      (p as { quorum: number }).quorum <= keyCount);
  if (!ok) throw invalidArgument('encryptPolicy', `expected "all", "primary" or { quorum: 1..${keyCount} }`);
  return p as EncryptPolicy;
}

/** A positive number of milliseconds (or undefined for the default). */
export function checkMs(name: string, v: unknown, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw invalidArgument(name, `expected a number of milliseconds ≥ ${min}`);
  return v;
}

/** Regions that must hold an EDK under `policy`: how many, and whether the primary must be one. */
export function policyNeeds(policy: EncryptPolicy, keyCount: number): number {
  return policy === 'all' ? keyCount : policy === 'primary' ? 1 : policy.quorum;
}
