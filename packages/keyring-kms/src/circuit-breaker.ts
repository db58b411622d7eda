/**
 * A per-region circuit breaker. Closed: calls flow. After `failureThreshold` consecutive
 * failures of the region (see failure-kind.ts: the region's, never throttling or a
 * key's refusal) it opens: calls to the region fail at once. After `openMs` it is half-open:
 * one probe call may go; its success closes the breaker, its failure opens it again (with the
 * cool-down doubled up to `maxOpenMs`, so a dead region is probed less and less often).
 */
import type { Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. Default 3. */
  failureThreshold?: number;
  /** First cool-down before a probe. Default 2000 ms. */
  openMs?: number;
  /** Longest cool-down after repeated failed probes. Default 30000 ms. */
  maxOpenMs?: number;
}

/**
 * One region's breaker (a {@link HealthRegistry} holds one per region).
 *
 * @example
 * ```ts
 * const b = new CircuitBreaker(systemClock, { failureThreshold: 3, openMs: 2000 });
 * if (b.tryAcquire()) { try { await call(); b.success(); } catch { b.failure(); } }
 * ```
 */
export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #baseOpenMs: number;
  readonly #maxOpenMs: number;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #openMs: number;
  #probeInFlight = false;

  constructor(
    clock: Clock,
    options: BreakerOptions = {},
    private readonly onChange?: (from: BreakerState, to: BreakerState) => void,
  ) {
    this.#clock = clock;
    this.#threshold = options.failureThreshold ?? 3;
    this.#baseOpenMs = options.openMs ?? 2000;
    this.#maxOpenMs = options.maxOpenMs ?? 30_000;
    this.#openMs = this.#baseOpenMs;
  }

  /** The state now (an open breaker whose cool-down passed reads as half-open). */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#openMs) this.#transition('half-open');
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Milliseconds until an open breaker allows a probe (0 when not open). */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.#openedAt + this.#openMs - this.#clock.now()) : 0;
  }

  /**
   * Whether a call may start now. In half-open state exactly one probe is admitted until it
   * reports back; the caller must then call {@link success} or {@link failure}.
   */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'half-open' && !this.#probeInFlight) {
      this.#probeInFlight = true;
      return true;
    }
    return false;
  }

  /** The region answered: close (or stay closed) and forget earlier failures. */
  success(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    this.#openMs = this.#baseOpenMs;
    if (this.#state !== 'closed') this.#transition('closed');
  }

  /** The region failed (a failure of the region itself, not of a key or request). */
  failure(): void {
    this.#failures++;
    const s = this.state;
    if (s === 'half-open') {
      this.#probeInFlight = false;
      this.#openMs = Math.min(this.#openMs * 2, this.#maxOpenMs);
      this.#open();
    } else if (s === 'closed' && this.#failures >= this.#threshold) {
      this.#open();
    }
  }

  /** A call admitted as a probe ended without a verdict (e.g. aborted because another region won). */
  release(): void {
    this.#probeInFlight = false;
  }

  #open(): void {
    this.#openedAt = this.#clock.now();
    this.#transition('open');
  }

  #transition(to: BreakerState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.onChange?.(from, to);
  }
}
