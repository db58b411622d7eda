/** Fault injection per region, and request-rate quotas: token buckets. */
export type FaultMode = 'none' | 'blackhole' | 'refuse' | 'error' | 'throttle' | 'latency';

export interface Fault {
  mode: FaultMode;
  /** latency: added delay. */
  latencyMs?: number;
  /** throttle: requests per second allowed before ThrottlingException. */
  ratePerSecond?: number;
  /** error: fraction of requests answered with HTTP 500 KMSInternalException (default 1). */
  errorRate?: number;
}

const MODES: readonly FaultMode[] = ['none', 'blackhole', 'refuse', 'error', 'throttle', 'latency'];

/** Validates an admin request body into a fault; throws a message for the admin API on nonsense. */
export function parseFault(v: unknown): Fault {
  if (!v || typeof v !== 'object') throw new Error('expected a JSON object');
  const o = v as Record<string, unknown>;
  if (!MODES.includes(o.mode as FaultMode)) throw new Error(`mode must be one of ${MODES.join(', ')}`);
  const num = (k: string, min: number, max: number): number | undefined => {
    if (o[k] === undefined) return undefined;
    const n = o[k];
    if (typeof n !== 'number' || !(n >= min && n <= max)) throw new Error(`${k} must be a number from ${min} to ${max}`);
    return n;
  };
  const f: Fault = { mode: o.mode as FaultMode };
  const latencyMs = num('latencyMs', 0, 600_000);
  const ratePerSecond = num('ratePerSecond', 0, 1e6);
  const errorRate = num('errorRate', 0, 1);
  if (latencyMs !== undefined) f.latencyMs = latencyMs;
  if (ratePerSecond !== undefined) f.ratePerSecond = ratePerSecond;
  if (errorRate !== undefined) f.errorRate = errorRate;
  if (f.mode === 'throttle' && f.ratePerSecond === undefined) throw new Error('throttle needs ratePerSecond');
  if (f.mode === 'latency' && f.latencyMs === undefined) throw new Error('latency needs latencyMs');
  return f;
}

/** A token bucket refilled at `rate` per second, holding at most `rate` tokens (one second of burst). */
export class TokenBucket {
  #tokens: number;
  #last = performance.now();
  constructor(readonly rate: number) {
    this.#tokens = rate;
  }
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.rate, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
