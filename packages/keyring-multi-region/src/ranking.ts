/**
 * Which region to try first, and how long to wait before hedging to the next: from the shared
 * region health (breaker state and latency estimates).
 */
import type { KeyArn } from './arn.js';
import type { HealthRegistry } from '@envelope/keyring-kms';

/** One ranked key: when to hedge past it, and whether it is a half-open breaker's probe. */
export interface RankedKey {
  readonly key: KeyArn;
  readonly hedgeAfterMs: number;
  readonly probe: boolean;
}

export interface HedgeDelays {
  /** A fixed delay; otherwise from the region's latency. */
  readonly fixedMs?: number | undefined;
  readonly floorMs: number;
  readonly ceilingMs: number;
}

/** The configured delay, or the region's latency estimate plus four deviations, clamped. */
export function hedgeDelay(health: HealthRegistry, region: string, d: HedgeDelays): number {
  if (d.fixedMs !== undefined) return d.fixedMs;
  const l = health.latency(region);
  if (l === undefined) return Math.min(100, d.ceilingMs);
  return Math.max(d.floorMs, Math.min(d.ceilingMs, l + 4 * (health.deviation(region) ?? l / 2)));
}

/**
 * Orders keys by region health: half-open regions first with a hedge delay of zero (their one
 * probe runs beside the best healthy region, so probing costs no latency); then the preferred
 * region while its breaker is closed, then the other closed regions by latency estimate; open
 * regions last (a call there fails at once, so they cost nothing and are listed in the error).
 */
export function rankKeys(keys: readonly KeyArn[], health: HealthRegistry, preferred: string, d: HedgeDelays): RankedKey[] {
  const scored = keys.map((key) => ({
    key,
    state: health.breakerState(key.region),
    latency: health.latency(key.region) ?? 50,
    preferred: key.region === preferred,
  }));
  const closed = scored
    .filter((s) => s.state === 'closed')
    .sort((a, b) => (a.preferred !== b.preferred ? (a.preferred ? -1 : 1) : a.latency - b.latency));
  return [
    ...scored.filter((s) => s.state === 'half-open').map((s) => ({ key: s.key, hedgeAfterMs: 0, probe: true })),
    ...closed.map((s) => ({ key: s.key, hedgeAfterMs: hedgeDelay(health, s.key.region, d), probe: false })),
    ...scored.filter((s) => s.state === 'open').map((s) => ({ key: s.key, hedgeAfterMs: 0, probe: false })),
  ];
}
