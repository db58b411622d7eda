/**
 * Retries for KMS calls. Every attempt runs under a per-call deadline (deadline.ts) and the
 * caller's AbortSignal, after a token from the region's quota pacer (region-pacer.ts) when
 * there is one; transient failures (failure-kind.ts: the region's or load) are retried with
 * exponential backoff and full jitter (sleep = random(0, min(maxDelay, base · 2^attempt))),
 * within a retry budget so that a KMS outage cannot multiply the load on KMS. A
 * ThrottlingException also teaches the pacer the region's rate.
 */
import { EnvelopeError, invalidArgument } from '@envelope/core';
import { sleep, systemClock, type Clock } from './clock.js';
import { abortedError, remainingMs, withDeadline } from './deadline.js';
import { CLIENT_THROTTLED, classifyFailure, type FailureKind } from './failure-kind.js';
import { circuitOpenError, type HealthRegistry } from './health.js';
import type { RegionPacer } from './region-pacer.js';

export interface RetryOptions {
  /**
   * Deadline for one KMS call (one attempt). Default 2000 ms. A wait for a quota token before it
   * takes at most as long, and at most half of what is left of the caller's deadline.
   */
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
  /** Paces attempts per region to the region's quota (KMS keyrings default to the process-wide one). */
  pacer?: RegionPacer | undefined;
  /**
   * Region health: each attempt is admitted by the region's breaker (an open one fails it at
   * once, reason `CircuitOpen`) and recorded (KMS keyrings default to the process-wide registry).
   */
  health?: HealthRegistry | undefined;
  /** Time, timers and jitter; a {@link ManualClock} in tests. */
  clock?: Clock;
}

/** What one {@link Retrier.run} needs besides the call. */
export interface RunOptions<T> {
  /** The caller's signal (its deadline, if it is a {@link Deadline}'s, bounds quota waits). */
  signal?: AbortSignal | undefined;
  /** The region called: for the quota pacer. */
  region?: string | undefined;
  /** Key named in a pacer refusal. */
  key?: string | undefined;
  /** Receives an answer that arrived after its attempt was given up (wipe key material in it). */
  discard?: ((late: T) => void) | undefined;
  /** Which failures are retried. Default: `region` and `load`. */
  retryKinds?: readonly FailureKind[] | undefined;
}

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
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(o: { ratio?: number; minPerSecond?: number; capacity?: number; clock?: Clock } = {}) {
    this.ratio = nonNegative('retryRatio', o.ratio ?? 0.1);
    this.minPerSecond = nonNegative('minRetriesPerSecond', o.minPerSecond ?? 1);
    this.capacity = nonNegative('maxRetryTokens', o.capacity ?? 10);
    this.#clock = o.clock ?? systemClock;
    this.#tokens = this.capacity; // start full, like gRPC's retry throttling
    this.#last = this.#clock.now();
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
    const t = this.#clock.now();
    const elapsed = Math.max(0, t - this.#last);
    this.#last = t;
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsed / 1000) * this.minPerSecond);
  }
}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidArgument(name, 'expected a finite number ≥ 0');
  return v;
}

const DEFAULT_RETRY_KINDS: readonly FailureKind[] = ['region', 'load'];

/**
 * Runs KMS calls with a per-attempt deadline, the caller's signal, a quota token per attempt,
 * backoff with full jitter on transient failures, and a retry budget. One per keyring (its
 * budget is the keyring's; its pacer is usually shared).
 *
 * @example
 * ```ts
 * const retrier = new Retrier({ callTimeoutMs: 1000, maxRetries: 3, pacer: sharedRegionPacer() });
 * const out = await retrier.run((signal) => client.decrypt(input, signal), { signal: callerSignal, region: 'eu-west-1' });
 * ```
 */
export class Retrier {
  readonly callTimeoutMs: number;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly budget: RetryBudget;
  readonly pacer: RegionPacer | undefined;
  readonly health: HealthRegistry | undefined;
  readonly clock: Clock;

  constructor(o: RetryOptions = {}) {
    this.callTimeoutMs = nonNegative('callTimeoutMs', o.callTimeoutMs ?? 2000);
    if (this.callTimeoutMs === 0) throw invalidArgument('callTimeoutMs', 'expected a positive number');
    this.maxRetries = nonNegative('maxRetries', o.maxRetries ?? 2);
    if (!Number.isInteger(this.maxRetries)) throw invalidArgument('maxRetries', 'expected an integer');
    this.baseDelayMs = nonNegative('baseDelayMs', o.baseDelayMs ?? 50);
    this.maxDelayMs = nonNegative('maxDelayMs', o.maxDelayMs ?? 1000);
    this.clock = o.clock ?? systemClock;
    this.pacer = o.pacer;
    this.health = o.health;
    this.budget =
      o.retryBudget ??
      new RetryBudget({
        ratio: o.retryRatio,
        minPerSecond: o.minRetriesPerSecond,
        capacity: o.maxRetryTokens,
        clock: this.clock,
      });
  }

  /** A retry starts only with at least a quarter of a call's timeout left before the caller's deadline. */
  #timeForAnother(signal: AbortSignal | undefined): boolean {
    return (remainingMs(signal) ?? Infinity) >= this.callTimeoutMs / 4;
  }

  /** The full-jitter delay before retry number `attempt` (0-based): random(0, min(max, base·2^attempt)). */
  delay(attempt: number): number {
    return this.clock.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
  }

  /**
   * Runs `fn` with a per-attempt deadline (which bounds the wait for a quota token too),
   * retrying transient failures. Throws the last attempt's error (ENVELOPE_THROTTLED when the
   * pacer had no capacity before the deadline), or ENVELOPE_ABORTED once the caller's signal
   * fires.
   */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, o: RunOptions<T> = {}): Promise<T> {
    const { signal, region } = o;
    const pacer = this.pacer;
    const kinds = o.retryKinds ?? DEFAULT_RETRY_KINDS;
    this.budget.onCall();
    const health = region === undefined ? undefined : this.health;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortedError(signal);
      // A region whose breaker is open is not called: the attempt fails at once, and so the call.
      if (health && !health.tryAcquire(region!)) throw circuitOpenError(health, o.key ?? region!, region!);
      let sentAt = this.clock.now();
      let sent = false;
      try {
        if (pacer && region !== undefined) {
          // The wait for a quota token comes before the call, and may take at most the call's
          // own timeout and half of what is left of the caller's deadline: the other half is
          // the call's, so that a call sent late is not cut short by the deadline (a timeout it
          // would wrongly count against the region). Longer waits are refused at once
          // (ENVELOPE_THROTTLED).
          await pacer.acquire(region, signal, o.key, Math.min(this.callTimeoutMs, (remainingMs(signal) ?? Infinity) / 2));
          sentAt = this.clock.now();
        }
        sent = true;
        const r = await withDeadline(this.callTimeoutMs, signal, fn, o.discard, this.clock);
        if (pacer && region !== undefined) pacer.onSuccess(region);
        health?.recordSuccess(region!, this.clock.now() - sentAt);
        return r;
      } catch (e) {
        const { kind, reason } = classifyFailure(e);
        // Not sent (our pacer refused, or the caller aborted while it waited), or abandoned by
        // the caller: no verdict on the region.
        if (health) {
          if (sent && !signal?.aborted) health.recordError(region!, e);
          else health.release(region!);
        }
        // Our own pacer refused: the deadline cannot fit a call, so neither can a retry.
        if (reason === CLIENT_THROTTLED && e instanceof EnvelopeError && e.code === 'ENVELOPE_THROTTLED') throw e;
        if (signal?.aborted) throw abortedError(signal);
        if (kind === 'load' && pacer && region !== undefined) pacer.onThrottled(region, sentAt);
        if (!kinds.includes(kind) || attempt >= this.maxRetries || !this.#timeForAnother(signal) || !this.budget.tryRetry()) throw e;
        try {
          await sleep(this.clock, this.delay(attempt), signal);
        } catch {
          throw abortedError(signal);
        }
      }
    }
  }
}
