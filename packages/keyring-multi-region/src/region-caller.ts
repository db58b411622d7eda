/**
 * One KMS call to one region, as the multi-region keyring makes it: admitted by the region's
 * breaker (an open breaker fails the call at once, reason `CircuitOpen`: no deadline waited out
 * per call), paced to the region's quota, throttling retried in place within the retry budget,
 * and its outcome recorded in the region's health, judged by keyring-kms's one classification.
 */
import { isAborted } from '@envelope/core';
import { CIRCUIT_OPEN, SLOW, circuitOpenError, reasonOf, type Clock, type HealthRegistry, type Retrier } from '@envelope/keyring-kms';
import type { KeyArn } from './arn.js';
import type { MultiRegionEvent } from './options.js';

export type Operation = 'GenerateDataKey' | 'Encrypt' | 'Decrypt';

/** When a call's current request left (after any wait for a quota token), and whether it is out now. */
export interface CallTrack {
  sentAt?: number;
  inFlight?: boolean;
  readonly startedAt: number;
}

export class RegionCaller {
  readonly clock: Clock;

  constructor(
    readonly health: HealthRegistry,
    /** Load-only retries, paced per region, the keyring's per-call deadline. */
    readonly retrier: Retrier,
    readonly emit: (e: MultiRegionEvent) => void,
  ) {
    this.clock = health.clock;
  }

  /**
   * Admits a call to `key`'s region now, or throws at once (ENVELOPE_KMS, one cause with reason
   * `CircuitOpen`) when its breaker is open or its one half-open probe is already out.
   */
  admit(op: Operation, key: KeyArn): void {
    if (this.health.tryAcquire(key.region)) return;
    this.emit({ type: 'call', operation: op, region: key.region, keyArn: key.arn, outcome: 'skipped', latencyMs: 0, reason: CIRCUIT_OPEN });
    throw circuitOpenError(this.health, key.arn, key.region);
  }

  /** Sends an admitted call: paced, throttling retried; `track` says when each request leaves and whether one is out. */
  send<T>(key: KeyArn, signal: AbortSignal, fn: (s: AbortSignal) => Promise<T>, track: CallTrack, discard?: (late: T) => void): Promise<T> {
    return this.retrier.run(
      async (s) => {
        track.sentAt = this.clock.now();
        track.inFlight = true;
        try {
          return await fn(s);
        } finally {
          // Aborted while out (lost the race): stays "in flight" for the verdict on slowness.
          if (!s.aborted) track.inFlight = false;
        }
      },
      { signal, region: key.region, key: key.arn, discard, retryKinds: ['load'] },
    );
  }

  /**
   * Records an admitted call's outcome in the region's health and reports it. A call that lost a
   * hedged race counts as `slow` against its region only if a request was out, for longer than
   * its hedge delay (time spent waiting for a quota token, or backing off after a throttle, is
   * load, not slowness).
   */
  record(
    op: Operation,
    key: KeyArn,
    outcome: 'success' | 'failure' | 'aborted',
    track: CallTrack,
    error?: unknown,
    hedgeAfterMs = Infinity,
  ): void {
    const now = this.clock.now();
    const latencyMs = now - (track.sentAt ?? track.startedAt);
    const reason = error === undefined ? undefined : reasonOf(error);
    if (outcome === 'success') this.health.recordSuccess(key.region, latencyMs);
    else if (outcome === 'failure') this.health.recordError(key.region, error);
    else if (track.inFlight && latencyMs > hedgeAfterMs) this.health.recordFailure(key.region, SLOW);
    else this.health.release(key.region);
    this.emit({
      type: 'call',
      operation: op,
      region: key.region,
      keyArn: key.arn,
      outcome,
      latencyMs,
      ...(reason ? { reason } : {}),
    });
  }

  /** One unhedged call (the encrypt fan-out): admit, send, record. */
  async call<T>(
    op: Operation,
    key: KeyArn,
    signal: AbortSignal,
    fn: (s: AbortSignal) => Promise<T>,
    discard?: (late: T) => void,
  ): Promise<T> {
    this.admit(op, key);
    const track: CallTrack = { startedAt: this.clock.now() };
    try {
      const r = await this.send(key, signal, fn, track, discard);
      this.record(op, key, 'success', track);
      return r;
    } catch (e) {
      const aborted = isAborted(e);
      this.record(op, key, aborted ? 'aborted' : 'failure', track, e);
      throw e;
    }
  }
}
