/**
 * Quota-aware pacing of KMS calls per region, on the client: throttling is load, not ill
 * health, so instead of a breaker a throttled region gets a token bucket whose rate is
 * learned from its ThrottlingExceptions.
 *
 * - Each region's bucket starts at the region's request quota (configurable; by default the
 *   AWS defaults for symmetric cryptographic operations: 100,000/s in us-east-1, us-west-2 and
 *   eu-west-1, 10,000/s elsewhere), so an unthrottled region is never slowed down.
 * - A ThrottlingException lowers the rate to `backoff` (0.9) × the lesser of the rate and an
 *   estimate of what the region admits: the calls that succeeded in the last second (or since
 *   the last cut, if that is more recent), per second; the first time, the calls sent in the
 *   last second. Throttles of calls sent before
 *   the last cut, or within 100 ms of it, say nothing new (one cut per round of news, as TCP
 *   cuts once per round trip), so the rate settles just under what the region admits within
 *   a few cuts, whatever the starting quota.
 * - Between throttles the rate grows back along a cubic curve (as TCP CUBIC's): fast at first,
 *   flat toward the rate that was last cut (reached after `recoveryMs`); then it probes above
 *   it slowly (`probePerSecond`, 5% of that rate a second), because a region's own bucket hides
 *   an excess for up to a second. The rate never drops below `minRate` (10/s): slower callers
 *   are never paced.
 * - Waiting callers are served in order at the current rate (a cut slows the queue at once).
 * - A caller waits for its token within its deadline ({@link remainingMs} of its signal). When
 *   the wait would outlast the deadline it fails at once with ENVELOPE_THROTTLED (reason
 *   `Throttled`), rather than waiting for nothing.
 */
import { EnvelopeError, invalidArgument } from '@envelope/core';
import { systemClock, type Clock } from './clock.js';
import { abortedError, remainingMs } from './deadline.js';
import { CLIENT_THROTTLED } from './failure-kind.js';

/** AWS KMS default request quotas for symmetric cryptographic operations (per second, shared per account and region). */
export const DEFAULT_KMS_QUOTAS: Readonly<Record<string, number>> = Object.freeze({
  'us-east-1': 100_000,
  'us-west-2': 100_000,
  'eu-west-1': 100_000,
});
/** The default quota of any other region. */
export const DEFAULT_KMS_QUOTA = 10_000;

export interface RegionPacerOptions {
  clock?: Clock;
  /** Requests per second by region (your account's quotas, or your share of them). */
  quotas?: Readonly<Record<string, number>>;
  /** The quota of a region not in `quotas`. Default 10,000 (AWS: see {@link DEFAULT_KMS_QUOTAS}). */
  defaultQuota?: number;
  /** The learned rate never drops below this (per second). Default 10: a caller slower than that is never paced. */
  minRate?: number;
  /** Multiplicative decrease on a throttle, in (0, 1). Default 0.9. */
  backoff?: number;
  /** Time to grow back to the rate before the last cut (ms). Default 2000. */
  recoveryMs?: number;
  /** Growth past the rate before the last cut, as a fraction of it per second. Default 0.05. */
  probePerSecond?: number;
  /** Burst: the bucket holds this many milliseconds of the rate (at least one token). Default 1000, as KMS's own buckets. */
  burstMs?: number;
}

/** One region's pacing, as {@link RegionPacer.snapshot} reports it. */
export interface RegionPace {
  readonly region: string;
  /** Tokens per second now. */
  readonly ratePerSecond: number;
  /** True once a throttle taught the pacer something (until then the rate is the quota). */
  readonly learned: boolean;
  /** Callers waiting for a token. */
  readonly waiting: number;
  /** ThrottlingExceptions reported; and how many of them cut the rate. */
  readonly throttles: number;
  readonly cuts: number;
  /** Callers refused because the wait would outlast their deadline. */
  readonly refused: number;
}

const SLOT_MS = 100;
const SLOTS = 10; // one second of calls sent and admitted
/** The shortest time after a cut over which the admitted rate is measured. */
const MEASURE_MS = 100;
/** Token arithmetic in floating point: 0.1 ms at 10,000/s is 0.99999… of a token. */
const EPS = 1e-6;

interface Waiter {
  readonly expiresAt: number;
  readonly grant: () => void;
  readonly refuse: () => void;
}

class RegionState {
  tokens: number;
  last: number;
  wMax = 0;
  cutAt = -Infinity;
  learned = false;
  throttles = 0;
  cuts = 0;
  refused = 0;
  readonly queue: Waiter[] = [];
  cancelDispatch: (() => void) | undefined;
  /** Calls sent and calls that succeeded, per slot of the last second. */
  readonly sent = new Array<number>(SLOTS).fill(0);
  readonly ok = new Array<number>(SLOTS).fill(0);
  slotIndex = 0;
  slotStart: number;
  constructor(
    readonly quota: number,
    now: number,
  ) {
    this.tokens = 1;
    this.last = now;
    this.slotStart = now;
  }
}

/**
 * Paces KMS calls per region to the region's (learned) request quota. Share one per process
 * (or container): quotas are per account and region, whoever makes the calls.
 *
 * @example
 * ```ts
 * const pacer = new RegionPacer({ quotas: { 'eu-central-1': 2000 } });
 * const keyring = new KmsKeyring({ clientSupplier, generatorKeyId: arn, pacer });
 * ```
 */
export class RegionPacer {
  readonly clock: Clock;
  readonly #quotas: Readonly<Record<string, number>>;
  readonly #defaultQuota: number;
  readonly #minRate: number;
  readonly #backoff: number;
  readonly #recoveryMs: number;
  readonly #probe: number;
  readonly #burstMs: number;
  readonly #regions = new Map<string, RegionState>();

  constructor(o: RegionPacerOptions = {}) {
    this.clock = o.clock ?? systemClock;
    const quotas = { ...DEFAULT_KMS_QUOTAS, ...o.quotas };
    for (const [r, q] of Object.entries(quotas)) positive(`quotas.${r}`, q);
    this.#quotas = quotas;
    this.#defaultQuota = positive('defaultQuota', o.defaultQuota ?? DEFAULT_KMS_QUOTA);
    this.#minRate = positive('minRate', o.minRate ?? 10);
    this.#backoff = o.backoff ?? 0.9;
    if (!(this.#backoff > 0 && this.#backoff < 1)) throw invalidArgument('backoff', 'expected a number between 0 and 1');
    this.#recoveryMs = positive('recoveryMs', o.recoveryMs ?? 2000);
    this.#probe = positive('probePerSecond', o.probePerSecond ?? 0.05);
    this.#burstMs = positive('burstMs', o.burstMs ?? 1000);
  }

  #state(region: string): RegionState {
    let s = this.#regions.get(region);
    if (!s) {
      s = new RegionState(this.#quotas[region] ?? this.#defaultQuota, this.clock.now());
      s.tokens = this.#capacity(s.quota);
      this.#regions.set(region, s);
    }
    return s;
  }

  /** The region's rate now (tokens per second). */
  rate(region: string): number {
    return this.#rate(this.#state(region), this.clock.now());
  }

  #rate(s: RegionState, now: number): number {
    if (!s.learned) return s.quota;
    const t = now - s.cutAt;
    let r: number;
    if (t < this.#recoveryMs) {
      // CUBIC's concave part: W = Wmax · (1 + (1 − β) · x³), x = (t − K)/K from −1 to 0.
      const x = (t - this.#recoveryMs) / this.#recoveryMs;
      r = s.wMax * (1 + (1 - this.#backoff) * x * x * x);
    } else {
      // Probing: linear, at least 5/s a second so that a small learned rate recovers in seconds.
      r = s.wMax + Math.max(s.wMax * this.#probe, 5) * ((t - this.#recoveryMs) / 1000);
    }
    return Math.min(s.quota, Math.max(this.#minRate, r));
  }

  #capacity(rate: number): number {
    return Math.max(1, (rate * this.#burstMs) / 1000);
  }

  #refill(s: RegionState, now: number): void {
    const rate = this.#rate(s, now);
    s.tokens = Math.min(this.#capacity(rate), s.tokens + ((now - s.last) / 1000) * rate);
    s.last = now;
  }

  /**
   * Waits for a token for one call to `region`. Resolves at once while the region is under its
   * rate; otherwise in turn, if the expected wait fits within `signal`'s deadline and
   * `maxWaitMs`. Rejects with ENVELOPE_THROTTLED (one cause for `key`, reason `Throttled`) when
   * it does not, or when the deadline (or `maxWaitMs`) passes while waiting; with
   * ENVELOPE_ABORTED when the caller aborts.
   */
  acquire(region: string, signal?: AbortSignal, key = region, maxWaitMs = Infinity): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const s = this.#state(region);
    const now = this.clock.now();
    this.#refill(s, now);
    if (s.queue.length === 0 && s.tokens >= 1 - EPS) {
      s.tokens -= 1;
      this.#count(s.sent, s, now);
      return Promise.resolve();
    }
    const rate = this.#rate(s, now);
    const waitMs = ((s.queue.length + 1 - s.tokens) / rate) * 1000;
    const left = Math.min(remainingMs(signal) ?? Infinity, maxWaitMs);
    if (waitMs > left) {
      s.refused++;
      return Promise.reject(this.#throttled(region, key, waitMs, left));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = s.queue.indexOf(w);
        if (i >= 0) s.queue.splice(i, 1);
        const reason: unknown = signal!.reason;
        // Our deadline ran out while waiting: that is throttling, not a timeout of the region.
        if (reason instanceof EnvelopeError && reason.code === 'ENVELOPE_TIMEOUT') w.refuse();
        else reject(abortedError(signal));
      };
      const w: Waiter = {
        expiresAt: now + left,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        refuse: () => {
          signal?.removeEventListener('abort', onAbort);
          s.refused++;
          reject(this.#throttled(region, key, waitMs, undefined));
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      s.queue.push(w);
      this.#schedule(s);
    });
  }

  /** Serves waiting callers in order as tokens come, at the rate of the moment. */
  #dispatch(s: RegionState): void {
    s.cancelDispatch = undefined;
    const now = this.clock.now();
    this.#refill(s, now);
    while (s.queue.length > 0 && s.tokens >= 1 - EPS) {
      const w = s.queue.shift()!;
      if (w.expiresAt < now) {
        w.refuse();
        continue;
      }
      s.tokens -= 1;
      this.#count(s.sent, s, now);
      w.grant();
    }
    this.#schedule(s);
  }

  #schedule(s: RegionState): void {
    if (s.cancelDispatch || s.queue.length === 0) return;
    const now = this.clock.now();
    this.#refill(s, now);
    const waitMs = Math.max(0, ((1 - s.tokens) / this.#rate(s, now)) * 1000);
    s.cancelDispatch = this.clock.setTimer(waitMs, () => this.#dispatch(s));
  }

  #throttled(region: string, key: string, waitMs: number, leftMs: number | undefined): EnvelopeError {
    const within = leftMs === undefined ? 'before the deadline' : `within the ${Math.round(leftMs)} ms allowed`;
    return new EnvelopeError(
      'ENVELOPE_THROTTLED',
      `${region} is at its request quota (${this.rate(region).toFixed(1)}/s): no capacity ${within} (wait ${Math.round(waitMs)} ms)`,
      { causes: [{ key, region, reason: CLIENT_THROTTLED }] },
    );
  }

  /** A call to `region` succeeded: the region admitted it. */
  onSuccess(region: string): void {
    const s = this.#state(region);
    this.#count(s.ok, s, this.clock.now());
  }

  /** KMS throttled a call to `region` that was sent at `sentAt` (clock time). */
  onThrottled(region: string, sentAt: number): void {
    const s = this.#state(region);
    const now = this.clock.now();
    s.throttles++;
    // A call sent before the last cut reflects the old rate, and the first 100 ms after a cut
    // are too short to measure the new one: no news.
    if (sentAt <= s.cutAt || now - s.cutAt < MEASURE_MS) return;
    this.#refill(s, now);
    s.wMax = Math.max(this.#minRate, Math.min(this.#rate(s, now), this.#admitted(s, now)));
    s.cutAt = now;
    s.learned = true;
    s.cuts++;
    // The region's own bucket is empty (it just said so): no burst on ours either; the queue
    // slows down at once.
    s.tokens = Math.min(s.tokens, 0);
    s.cancelDispatch?.();
    s.cancelDispatch = undefined;
    this.#schedule(s);
  }

  /**
   * Calls per second the region admitted lately: the successes since the last cut (at most the
   * last second), over that time. Before any cut, the calls sent in the last second: nothing
   * had been throttled, so that much was admitted.
   */
  #admitted(s: RegionState, now: number): number {
    this.#advance(s, now);
    if (!s.learned) return s.sent.reduce((a, b) => a + b, 0);
    const since = Math.max(s.cutAt, now - SLOTS * SLOT_MS);
    let ok = 0;
    for (let k = 0; k < SLOTS; k++) {
      if (s.slotStart - k * SLOT_MS + SLOT_MS <= since) break;
      ok += s.ok[(s.slotIndex - k + SLOTS) % SLOTS]!;
    }
    return (ok * 1000) / Math.max(MEASURE_MS, now - since);
  }

  #count(slots: number[], s: RegionState, now: number): void {
    this.#advance(s, now);
    slots[s.slotIndex]!++;
  }

  /** Moves the one-second windows up to `now`. */
  #advance(s: RegionState, now: number): void {
    const steps = Math.floor((now - s.slotStart) / SLOT_MS);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, SLOTS); i++) {
      s.slotIndex = (s.slotIndex + 1) % SLOTS;
      s.sent[s.slotIndex] = 0;
      s.ok[s.slotIndex] = 0;
    }
    s.slotStart += steps * SLOT_MS;
  }

  /** Every region's pacing now. */
  snapshot(): RegionPace[] {
    const now = this.clock.now();
    return [...this.#regions.entries()].map(([region, s]) => ({
      region,
      ratePerSecond: this.#rate(s, now),
      learned: s.learned,
      waiting: s.queue.length,
      throttles: s.throttles,
      cuts: s.cuts,
      refused: s.refused,
    }));
  }
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalidArgument(name, 'expected a positive number');
  return v;
}

let shared: RegionPacer | undefined;

/** The process-wide pacer every KMS keyring uses unless given its own (quotas are per account and region). */
export function sharedRegionPacer(): RegionPacer {
  shared ??= new RegionPacer();
  return shared;
}

/**
 * The pacer a keyring uses when given none: the process-wide one on the system clock, or a
 * pacer of its own on any other clock (a pacer must read deadlines on the clock that set them).
 */
export function defaultPacerFor(clock: Clock | undefined): RegionPacer {
  return clock === undefined || clock === systemClock ? sharedRegionPacer() : new RegionPacer({ clock });
}
