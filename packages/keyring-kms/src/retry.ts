/**
 * Deadlines and retries for KMS calls. Every attempt runs under a per-call deadline and the
 * caller's AbortSignal; transient failures are retried with exponential backoff and full
 * jitter (sleep = random(0, min(maxDelay, base · 2^attempt))), within a retry budget so a KMS
 * outage cannot multiply the load on KMS.
 */
import { EnvelopeError } from '@envelope/core';
import { isTransient } from './errors.js';

/** Time, sleep and randomness, injectable so tests run on a fake clock. */
export interface RetryClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolves after `ms`, or rejects when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

export interface RetryOptions {
  /** Deadline for one KMS call (one attempt). Default 2000 ms. */
  callTimeoutMs?: number;
  /** Retries after the first attempt. Default 2. */
  maxRetries?: number;
  /** First backoff ceiling. Default 50 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default 1000 ms. */
  maxDelayMs?: number;
  /** Retry budget: each call earns this fraction of a retry. Default 0.1 (retries add at most ~10%). */
  retryRatio?: number;
  /** Retry budget: retries earned per second regardless of traffic. Default 1. */
  minRetriesPerSecond?: number;
  /** Retry budget: most retries that can be saved up. Default 10. */
  maxRetryTokens?: number;
  /** A budget shared with other keyrings (the three budget options above are then ignored). */
  retryBudget?: RetryBudget;
  /** Injectable for tests. */
  clock?: RetryClock;
}

/** The real clock: performance.now, setTimeout, Math.random. */
export const realClock: RetryClock = {
  now: () => performance.now(),
  random: Math.random,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A token bucket of retries. Every call (first attempt) adds `ratio` tokens, every second adds
 * `minPerSecond`, up to `capacity`; a retry spends one token. While KMS is healthy the bucket
 * fills; during an outage retries stop once it is empty, so the extra load is bounded by about
 * `ratio` × calls + `minPerSecond` × seconds (the gRPC/Finagle retry-budget idea).
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1, capacity: 10 });
 * new KmsKeyring({ clientSupplier, generatorKeyId, retryBudget: budget });
 * ```
 */
export class RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly capacity: number;
  /** Retries refused because the bucket was empty (for metrics and tests). */
  denied = 0;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(o: { ratio?: number; minPerSecond?: number; capacity?: number; now?: () => number } = {}) {
    this.ratio = nonNegative('retryRatio', o.ratio ?? 0.1);
    this.minPerSecond = nonNegative('minRetriesPerSecond', o.minPerSecond ?? 1);
    this.capacity = nonNegative('maxRetryTokens', o.capacity ?? 10);
    this.#now = o.now ?? realClock.now;
    this.#tokens = this.capacity; // start full, like gRPC's retry throttling
    this.#last = this.#now();
  }

  /** Tokens available now (fractional). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Records a first attempt: earns `ratio` of a retry. */
  onCall(): void {
    this.#refill();
    this.#tokens = Math.min(this.capacity, this.#tokens + this.ratio);
  }

  /** Spends one token if there is one. */
  tryRetry(): boolean {
    this.#refill();
    if (this.#tokens < 1 - 1e-9) {
      // 10 × 0.1 is 0.999…
      this.denied++;
      return false;
    }
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }

  #refill(): void {
    const t = this.#now();
    const elapsed = Math.max(0, t - this.#last);
    this.#last = t;
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsed / 1000) * this.minPerSecond);
  }
}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${name}: expected a finite number ≥ 0`);
  return v;
}

function aborted(signal: AbortSignal | undefined): EnvelopeError {
  return new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: signal?.reason });
}

/**
 * Runs KMS calls with a per-attempt deadline, the caller's signal, backoff with full jitter on
 * transient failures, and a retry budget. One per keyring (its budget is the keyring's).
 *
 * @example
 * ```ts
 * const retrier = new Retrier({ callTimeoutMs: 1000, maxRetries: 3 });
 * const out = await retrier.run((signal) => client.decrypt(input, signal), callerSignal);
 * ```
 */
export class Retrier {
  readonly callTimeoutMs: number;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly budget: RetryBudget;
  readonly #clock: RetryClock;

  constructor(o: RetryOptions = {}) {
    this.callTimeoutMs = nonNegative('callTimeoutMs', o.callTimeoutMs ?? 2000);
    if (this.callTimeoutMs === 0) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'callTimeoutMs: expected a positive number');
    this.maxRetries = nonNegative('maxRetries', o.maxRetries ?? 2);
    if (!Number.isInteger(this.maxRetries)) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'maxRetries: expected an integer');
    this.baseDelayMs = nonNegative('baseDelayMs', o.baseDelayMs ?? 50);
    this.maxDelayMs = nonNegative('maxDelayMs', o.maxDelayMs ?? 1000);
    this.#clock = o.clock ?? realClock;
    this.budget =
      o.retryBudget ??
      new RetryBudget({
        ratio: o.retryRatio,
        minPerSecond: o.minRetriesPerSecond,
        capacity: o.maxRetryTokens,
        now: () => this.#clock.now(),
      });
  }

  /** The full-jitter delay before retry number `attempt` (0-based): random(0, min(max, base·2^attempt)). */
  delay(attempt: number): number {
    return this.#clock.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
  }

  /**
   * Runs `fn` with a per-attempt deadline, retrying transient failures. Throws the last
   * attempt's error, or ENVELOPE_ABORTED once the caller's signal fires. `discard` receives any
   * answer that arrives after its attempt was given up (see {@link withDeadline}).
   */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal, discard?: (late: T) => void): Promise<T> {
    this.budget.onCall();
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw aborted(signal);
      try {
        return await withDeadline(this.callTimeoutMs, signal, fn, discard);
      } catch (e) {
        if (signal?.aborted) throw aborted(signal);
        if (!isTransient(e) || attempt >= this.maxRetries || !this.budget.tryRetry()) throw e;
        try {
          await this.#clock.sleep(this.delay(attempt), signal);
        } catch {
          throw aborted(signal);
        }
      }
    }
  }
}

/**
 * Runs `fn` with a signal that fires after `ms` or when `parent` fires, and settles at that
 * moment even if `fn` ignores its signal (a silent endpoint must not hang the caller). A
 * deadline rejects with ENVELOPE_TIMEOUT, the parent with ENVELOPE_ABORTED.
 *
 * An answer that arrives after that (a client that ignored its signal, or a response already in
 * flight) has no caller left: it goes to `discard`, which should wipe any key material in it
 * (the KMS building blocks zero the response's `Plaintext`). Errors of `discard` are ignored.
 *
 * @example
 * ```ts
 * await withDeadline(2000, callerSignal, (signal) => client.send(command, { abortSignal: signal }), (late) => late.Plaintext?.fill(0));
 * ```
 */
export function withDeadline<T>(
  ms: number,
  parent: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T> | T,
  discard?: (late: T) => void,
): Promise<T> {
  if (parent?.aborted) return Promise.reject(aborted(parent));
  const ctl = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const giveUp = (e: EnvelopeError): void => {
      settled = true;
      ctl.abort(e);
      reject(e);
    };
    const t = setTimeout(() => giveUp(new EnvelopeError('ENVELOPE_TIMEOUT', `no answer within ${ms} ms`)), ms);
    const onParent = (): void => giveUp(aborted(parent));
    parent?.addEventListener('abort', onParent, { once: true });
    const done = (): void => {
      clearTimeout(t);
      parent?.removeEventListener('abort', onParent);
    };
    // Promise.resolve().then: a client may answer synchronously (or throw synchronously).
    Promise.resolve()
      .then(() => fn(ctl.signal))
      .then(
        (v) => {
          done();
          if (!settled) {
            settled = true;
            resolve(v);
          } else if (discard) {
            try {
              discard(v);
            } catch {
              // Nothing to report to: the caller has its answer (the timeout or the abort).
            }
          }
        },
        (e: unknown) => (done(), reject(e)),
      );
  });
}
