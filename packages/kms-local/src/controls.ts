/**
 * Per-region traffic controls: request counters (the admin stats), the current fault, and the
 * token buckets of the throttle fault and the configured quotas. Keys are only served regions and
 * known operation names, so the maps stay bounded whatever clients send.
 */
import { TokenBucket, type Fault } from './faults.js';
import { systemClock, type KmsLocalClock } from './clock.js';

/** What the server should do with a request after the fault and quota checks. */
export type Admission = 'serve' | 'blackhole' | 'refuse' | 'error' | 'throttle';

/** Counters, faults and rate limits for the regions of one kms-local. */
export class RegionControls {
  readonly #regions: readonly string[];
  readonly #stats = new Map<string, Map<string, number>>();
  readonly #faults = new Map<string, Fault>();
  readonly #faultBuckets = new Map<string, TokenBucket>();
  readonly #quotas = new Map<string, TokenBucket>();
  readonly #clock: KmsLocalClock;

  /** `quotas`: requests per second per region (ThrottlingException past them); `clock` runs the buckets. */
  constructor(regions: readonly string[], quotas: Readonly<Record<string, number>> = {}, clock: KmsLocalClock = systemClock) {
    this.#regions = regions;
    this.#clock = clock;
    for (const [region, rate] of Object.entries(quotas)) {
      this.#check(region);
      if (!(rate >= 0)) throw new RangeError(`quota for ${region} must be a number of requests per second >= 0`);
      this.#quotas.set(region, new TokenBucket(rate, clock.now()));
    }
  }

  #check(region: string): void {
    if (!this.#regions.includes(region)) throw new Error(`kms-local does not serve region ${region}`);
  }

  /** Counts one request. */
  count(region: string, operation: string): void {
    let m = this.#stats.get(region);
    if (!m) this.#stats.set(region, (m = new Map()));
    m.set(operation, (m.get(operation) ?? 0) + 1);
  }

  /** `{"<region>":{"<Operation>":count}}` for regions that saw requests. */
  stats(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.#stats.entries()].map(([r, m]) => [r, Object.fromEntries(m)]));
  }

  resetStats(): void {
    this.#stats.clear();
  }

  /** Sets (or with mode "none" clears) a region's fault; a new throttle starts with a full bucket. */
  setFault(region: string, fault: Fault): void {
    this.#check(region);
    this.#faultBuckets.delete(region);
    if (fault.mode === 'none') {
      this.#faults.delete(region);
      return;
    }
    this.#faults.set(region, { ...fault });
    if (fault.mode === 'throttle') this.#faultBuckets.set(region, new TokenBucket(fault.ratePerSecond ?? 0, this.#clock.now()));
  }

  /** The current faults, by region. */
  faults(): Record<string, Fault> {
    return Object.fromEntries([...this.#faults.entries()].map(([r, f]) => [r, { ...f }]));
  }

  /** The region's fault, if any. */
  fault(region: string): Fault | undefined {
    return this.#faults.get(region);
  }

  /** Clears faults (quotas stay: they are configuration). */
  resetFaults(): void {
    this.#faults.clear();
    this.#faultBuckets.clear();
  }

  /** Decides a request's fate, apart from latency (which the server applies first). */
  admit(region: string, random = Math.random): Admission {
    const f = this.#faults.get(region);
    if (f) {
      if (f.mode === 'blackhole' || f.mode === 'refuse') return f.mode;
      if (f.mode === 'error' && random() < (f.errorRate ?? 1)) return 'error';
      if (f.mode === 'throttle' && !this.#faultBuckets.get(region)!.take(this.#clock.now())) return 'throttle';
    }
    const q = this.#quotas.get(region);
    if (q && !q.take(this.#clock.now())) return 'throttle';
    return 'serve';
  }
}
