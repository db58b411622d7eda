/**
 * Fault injection per region, and the token bucket behind both the `throttle` fault and the
 * configured request-rate quotas.
 */

/** What a region does to requests: see {@link Fault}. */
export type FaultMode = 'none' | 'blackhole' | 'refuse' | 'error' | 'throttle' | 'latency';

/**
 * A region's fault.
 * - `blackhole`: accept the request and never answer (close() still ends the socket).
 * - `refuse`: destroy the connection at once.
 * - `error`: HTTP 500 KMSInternalException for a fraction `errorRate` (default 1) of requests.
 * - `throttle`: a token bucket at `ratePerSecond`; ThrottlingException past it.
 * - `latency`: `latencyMs` added before answering.
 */
export interface Fault {
  mode: FaultMode;
  latencyMs?: number;
  ratePerSecond?: number;
  errorRate?: number;
}

const MODES: readonly FaultMode[] = ['none', 'blackhole', 'refuse', 'error', 'throttle', 'latency'];
/** Upper bounds, so a typo cannot park a request for a day. */
export const MAX_LATENCY_MS = 600_000;
export const MAX_RATE_PER_SECOND = 1_000_000;

/**
 * Validates a fault (an admin request body, or a programmatic argument); throws an Error whose
 * message names the field.
 *
 * @example
 * ```ts
 * parseFault({ mode: 'throttle', ratePerSecond: 5 }); // { mode: 'throttle', ratePerSecond: 5 }
 * ```
 */
export function parseFault(v: unknown): Fault {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
  const o = v as Record<string, unknown>;
  if (!MODES.includes(o.mode as FaultMode)) throw new Error(`mode must be one of ${MODES.join(', ')}`);
  const num = (k: string, min: number, max: number): number | undefined => {
    const n = o[k];
    if (n === undefined || n === null) return undefined;
    if (typeof n !== 'number' || !(n >= min && n <= max)) throw new Error(`${k} must be a number from ${min} to ${max}`);
    return n;
  };
  const f: Fault = { mode: o.mode as FaultMode };
  const latencyMs = num('latencyMs', 0, MAX_LATENCY_MS);
  const ratePerSecond = num('ratePerSecond', 0, MAX_RATE_PER_SECOND);
  const errorRate = num('errorRate', 0, 1);
  if (latencyMs !== undefined) f.latencyMs = latencyMs;
  if (ratePerSecond !== undefined) f.ratePerSecond = ratePerSecond;
  if (errorRate !== undefined) f.errorRate = errorRate;
  if (f.mode === 'throttle' && f.ratePerSecond === undefined) throw new Error('throttle needs ratePerSecond');
  if (f.mode === 'latency' && f.latencyMs === undefined) throw new Error('latency needs latencyMs');
  return f;
}

/**
 * A token bucket refilled at `rate` per second holding at most max(rate, 1) tokens (one second of
 * burst); a rate of 0 admits nothing.
 */
export class TokenBucket {
  readonly #capacity: number;
  #tokens: number;
  #last: number;

  /** `now`: the clock's current reading in milliseconds (tests pass their own). */
  constructor(
    readonly rate: number,
    now = performance.now(),
  ) {
    this.#capacity = rate === 0 ? 0 : Math.max(rate, 1);
    this.#tokens = this.#capacity;
    this.#last = now;
  }

  /** Takes one token if there is one. */
  take(now = performance.now()): boolean {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
