/**
 * Region health, shared by every message in the process (or container, or batch): a moving
 * latency estimate, recent outcomes and a circuit breaker per region. What a failure says
 * about the region is decided by the one classification of failure-kind.ts ({@link kindOfReason}):
 * only the region's own failures (DNS, connect, TLS, socket, 5xx, timeouts, slowness) count;
 * throttling and a key's refusal show that the region answered. Observable through
 * {@link HealthRegistry.snapshot} and `'change'` events.
 */
import { EventEmitter } from 'node:events';
import { EnvelopeError } from '@envelope/core';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker.js';
import { systemClock, type Clock } from './clock.js';
import { CIRCUIT_OPEN, CLIENT_THROTTLED, classifyFailure, kindOfReason, type FailureKind } from './failure-kind.js';

export interface RegionHealth {
  readonly region: string;
  readonly breaker: BreakerState;
  /** Exponentially weighted moving average of successful call latency (ms), undefined before the first. */
  readonly latencyMs: number | undefined;
  /** EWMA of the absolute deviation from that average (ms). */
  readonly latencyDeviationMs: number | undefined;
  readonly consecutiveFailures: number;
  readonly successes: number;
  /** Failures of the region (the ones that count toward its breaker). */
  readonly failures: number;
  /** Throttled answers (load: never counted against the region). */
  readonly throttles: number;
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
  throttles = 0;
  lastError: string | undefined;
  constructor(readonly breaker: CircuitBreaker) {}
}

/**
 * Per-region health. Events: `'change'` ({@link HealthEvent}) whenever a breaker changes state.
 * Share one across every keyring of a process, container or batch command, so that once a
 * region's breaker opens no later call waits out a deadline there.
 *
 * @example
 * ```ts
 * const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 2000 } });
 * health.on('change', (e) => console.error(`${e.region}: ${e.from} → ${e.to}`));
 * new MultiRegionKeyring({ keys, kms, health });
 * ```
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

  /** The breaker's state for `region` now. */
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

  /** The latency deviation estimate (ms), or undefined before any success. */
  deviation(region: string): number | undefined {
    return this.#get(region).deviation;
  }

  /** Records a successful call and its latency (from the moment the request was sent). */
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

  /**
   * Records a failed call to `region` with its short reason (keyring-kms `reasonOf`), and says
   * what it did: `counted` against the region (its own failure); `answered` (throttling, or a
   * key's or request's refusal: the region is up, so its breaker closes); `none` (our pacer's
   * refusal, an abort, an unknown error: no verdict, a probe slot is released).
   */
  recordFailure(region: string, reason: string): 'counted' | 'answered' | 'none' {
    return this.#record(region, reason, kindOfReason(reason));
  }

  /** {@link recordFailure} for an error itself (its HTTP status decides for names the classification does not know). */
  recordError(region: string, error: unknown): 'counted' | 'answered' | 'none' {
    const { reason, kind } = classifyFailure(error);
    return this.#record(region, reason, kind);
  }

  #record(region: string, reason: string, kind: FailureKind): 'counted' | 'answered' | 'none' {
    const s = this.#get(region);
    if (kind === 'region') {
      s.failures++;
      s.lastError = reason;
      s.breaker.failure();
      return 'counted';
    }
    if (kind === 'load' && reason !== CLIENT_THROTTLED) s.throttles++;
    if ((kind === 'load' && reason !== CLIENT_THROTTLED) || kind === 'key' || kind === 'request') {
      s.breaker.success();
      return 'answered';
    }
    s.breaker.release();
    return 'none';
  }

  /** One region's health (see {@link snapshot}). */
  regionHealth(region: string): RegionHealth {
    return this.#view(region, this.#get(region));
  }

  /** A probe that ended without a verdict. */
  release(region: string): void {
    this.#get(region).breaker.release();
  }

  /** Every region seen so far. */
  snapshot(): RegionHealth[] {
    return [...this.#regions.entries()].map(([region, s]) => this.#view(region, s));
  }

  #view(region: string, s: RegionState): RegionHealth {
    return {
      region,
      breaker: s.breaker.state,
      latencyMs: s.latency,
      latencyDeviationMs: s.deviation,
      consecutiveFailures: s.breaker.consecutiveFailures,
      successes: s.successes,
      failures: s.failures,
      throttles: s.throttles,
      retryInMs: s.breaker.retryInMs,
      lastError: s.lastError,
    };
  }
}

let shared: HealthRegistry | undefined;

/** The process-wide registry every KMS and multi-region keyring uses unless given its own. */
export function sharedHealthRegistry(): HealthRegistry {
  shared ??= new HealthRegistry();
  return shared;
}

/**
 * The registry a keyring uses when given none: the process-wide one on the system clock, or a
 * registry of its own on any other clock (a breaker's cool-down is read on the clock that set it).
 */
export function defaultHealthFor(clock: Clock | undefined): HealthRegistry {
  return clock === undefined || clock === systemClock ? sharedHealthRegistry() : new HealthRegistry({ clock });
}

/**
 * The failure of a call that was not made because `region`'s breaker is open (or its one
 * half-open probe is out): ENVELOPE_KMS with one cause, reason `CircuitOpen`, saying why and
 * when the next probe goes.
 */
export function circuitOpenError(health: HealthRegistry, key: string, region: string): EnvelopeError {
  const h = health.regionHealth(region);
  return new EnvelopeError(
    'ENVELOPE_KMS',
    `${region} is unavailable: circuit open after ${h.failures} failures (last: ${h.lastError ?? 'unknown'})` +
      (h.retryInMs > 0 ? `; next probe in ${Math.ceil(h.retryInMs)} ms` : '; a probe is in flight'),
    { causes: [{ key, region, reason: CIRCUIT_OPEN }] },
  );
}
