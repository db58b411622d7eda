/**
 * Deadlines and retries for KMS calls: every attempt runs under a per-call deadline and the
 * caller's AbortSignal; transient failures are retried with exponential backoff and full jitter
 * (sleep = random(0, min(maxDelay, base · 2^attempt))), within a retry budget so an outage
 * cannot multiply the load on KMS.
 */
import { EnvelopeError } from '@envelope/core';
import { isTransient } from './errors.js';

export interface RetryOptions {
  /** Deadline for one KMS call. Default 2000 ms. */
  callTimeoutMs?: number;
  /** Retries after the first attempt. Default 2. */
  maxRetries?: number;
  /** Default 50 ms. */
  baseDelayMs?: number;
  /** Default 1000 ms. */
  maxDelayMs?: number;
  /** Retry budget: at most this fraction of calls may be retries (plus `minRetriesPerSecond`). Default 0.1. */
  retryRatio?: number;
  minRetriesPerSecond?: number;
  /** Injectable for tests. */
  clock?: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void>; random(): number };
}

const realClock = {
  now: () => performance.now(),
  random: Math.random,
  sleep: (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
    }),
};

/** A token bucket of retries: earns `ratio` per call, plus `minPerSecond` per second. */
export class RetryBudget {
  #tokens: number;
  #last: number;
  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly now: () => number,
  ) {
    this.#tokens = Math.max(minPerSecond, 1);
    this.#last = now();
  }
  onCall(): void {
    const t = this.now();
    this.#tokens = Math.min(this.#tokens + this.ratio + ((t - this.#last) / 1000) * this.minPerSecond, 100 + this.minPerSecond);
    this.#last = t;
  }
  tryRetry(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export class Retrier {
  readonly callTimeoutMs: number;
  readonly maxRetries: number;
  readonly #base: number;
  readonly #max: number;
  readonly #clock: NonNullable<RetryOptions['clock']>;
  readonly budget: RetryBudget;

  constructor(o: RetryOptions = {}) {
    this.callTimeoutMs = o.callTimeoutMs ?? 2000;
    this.maxRetries = o.maxRetries ?? 2;
    this.#base = o.baseDelayMs ?? 50;
    this.#max = o.maxDelayMs ?? 1000;
    this.#clock = o.clock ?? realClock;
    this.budget = new RetryBudget(o.retryRatio ?? 0.1, o.minRetriesPerSecond ?? 5, this.#clock.now);
  }

  /** The full-jitter delay before retry number `attempt` (0-based). */
  delay(attempt: number): number {
    return this.#clock.random() * Math.min(this.#max, this.#base * 2 ** attempt);
  }

  /** Runs `fn` with a per-attempt deadline, retrying transient failures. */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.budget.onCall();
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: signal.reason });
      try {
        return await withDeadline(this.callTimeoutMs, signal, fn);
      } catch (e) {
        if (signal?.aborted) throw new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: signal.reason });
        if (!isTransient(e) || attempt >= this.maxRetries || !this.budget.tryRetry()) throw e;
        await this.#clock.sleep(this.delay(attempt), signal).catch(() => {
          throw new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: signal?.reason });
        });
      }
    }
  }
}

/**
 * Runs `fn` with a signal that fires after `ms` or when `parent` fires, and rejects at that
 * moment even if `fn` ignores its signal (a silent endpoint must not hang the caller).
 */
export function withDeadline<T>(ms: number, parent: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timeout = new EnvelopeError('ENVELOPE_TIMEOUT', `no answer within ${ms} ms`);
    const t = setTimeout(() => {
      ctl.abort(timeout);
      reject(timeout);
    }, ms);
    const onParent = (): void => {
      ctl.abort(parent!.reason);
      reject(new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: parent!.reason }));
    };
    if (parent?.aborted) onParent();
    else parent?.addEventListener('abort', onParent, { once: true });
    // Promise.resolve: a client may return a plain value (or throw synchronously).
    Promise.resolve()
      .then(() => fn(ctl.signal))
      .then(resolve, reject)
      .finally(() => {
        clearTimeout(t);
        parent?.removeEventListener('abort', onParent);
      });
  });
}
