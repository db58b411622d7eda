/**
 * Region health, shared by every message in the process: a moving latency estimate, recent
 * outcomes and a circuit breaker per region. Observable through {@link HealthRegistry.snapshot}
 * and `'change'` events.
 */
import { EventEmitter } from 'node:events';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker.js';
import { systemClock, type Clock } from './clock.js';

export interface RegionHealth {
  readonly region: string;
  readonly breaker: BreakerState;
  /** Exponentially weighted moving average of successful call latency (ms), undefined before the first. */
  readonly latencyMs: number | undefined;
  /** EWMA of the absolute deviation from that average (ms). */
  readonly latencyDeviationMs: number | undefined;
  readonly consecutiveFailures: number;
  readonly successes: number;
  readonly failures: number;
  /** When an open breaker will admit a probe, in ms from now (0 otherwise). */
  readonly retryInMs: number;
  readonly lastError?: string | undefined;
}

export interface HealthEvent {
  readonly region: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

export interface HealthOptions {
  clock?: Clock;
  breaker?: BreakerOptions;
  /** Weight of a new latency sample. Default 0.2. */
  ewmaAlpha?: number;
}

class RegionState {
  latency: number | undefined;
  deviation: number | undefined;
  successes = 0;
  failures = 0;
  lastError: string | undefined;
  constructor(readonly breaker: CircuitBreaker) {}
}

/**
 * Per-region health. Events: `'change'` ({@link HealthEvent}) whenever a breaker changes state.
 */
export class HealthRegistry extends EventEmitter<{ change: [HealthEvent] }> {
  readonly clock: Clock;
  readonly #breakerOptions: BreakerOptions;
  readonly #alpha: number;
  readonly #regions = new Map<string, RegionState>();

  constructor(options: HealthOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.#breakerOptions = options.breaker ?? {};
    this.#alpha = options.ewmaAlpha ?? 0.2;
  }

  #get(region: string): RegionState {
    let s = this.#regions.get(region);
    if (!s) {
      s = new RegionState(
        new CircuitBreaker(this.clock, this.#breakerOptions, (from, to) => this.emit('change', { region, from, to, at: this.clock.now() })),
      );
      this.#regions.set(region, s);
    }
    return s;
  }

  breakerState(region: string): BreakerState {
    return this.#get(region).breaker.state;
  }

  /** Admits a call to `region` now (see {@link CircuitBreaker.tryAcquire}). */
  tryAcquire(region: string): boolean {
    return this.#get(region).breaker.tryAcquire();
  }

  /** The latency estimate (ms), or undefined before any success. */
  latency(region: string): number | undefined {
    return this.#get(region).latency;
  }

  deviation(region: string): number | undefined {
    return this.#get(region).deviation;
  }

  recordSuccess(region: string, latencyMs: number): void {
    const s = this.#get(region);
    s.successes++;
    if (s.latency === undefined) {
      s.latency = latencyMs;
      s.deviation = latencyMs / 2;
    } else {
      const a = this.#alpha;
      s.deviation = (1 - a) * s.deviation! + a * Math.abs(latencyMs - s.latency);
      s.latency = (1 - a) * s.latency + a * latencyMs;
    }
    s.breaker.success();
  }

  recordFailure(region: string, reason: string): void {
    const s = this.#get(region);
    s.failures++;
    s.lastError = reason;
    s.breaker.failure();
  }

  /** A probe that ended without a verdict. */
  release(region: string): void {
    this.#get(region).breaker.release();
  }

  snapshot(): RegionHealth[] {
    return [...this.#regions.entries()].map(([region, s]) => ({
      region,
      breaker: s.breaker.state,
      latencyMs: s.latency,
      latencyDeviationMs: s.deviation,
      consecutiveFailures: s.breaker.consecutiveFailures,
      successes: s.successes,
      failures: s.failures,
      retryInMs: s.breaker.retryInMs,
      lastError: s.lastError,
    }));
  }
}

let shared: HealthRegistry | undefined;

/** The process-wide registry every MultiRegionKeyring uses unless given its own. */
export function sharedHealthRegistry(): HealthRegistry {
  shared ??= new HealthRegistry();
  return shared;
}
