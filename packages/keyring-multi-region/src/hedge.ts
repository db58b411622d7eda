/**
 * Hedged execution: start the best candidate; if it has not answered within its hedge delay,
 * start the next as well, and so on. The first success wins and aborts the rest (probes of a
 * half-open breaker run on so their verdict is recorded). A deadline bounds the whole call.
 */
import { EnvelopeError, describeFailures, type KeyFailure } from '@envelope/core';
import type { Clock } from './clock.js';

export interface Candidate<T> {
  /** Label for errors: key ARN. */
  readonly key: string;
  readonly region: string;
  /** Start no later than this many ms after the previous candidate started. */
  readonly hedgeAfterMs: number;
  /** A half-open breaker's probe: not aborted when another candidate wins. */
  readonly probe?: boolean;
  /** Start only once every earlier candidate has failed (an open breaker's region). */
  readonly lastResort?: boolean;
  run(signal: AbortSignal): Promise<T>;
}

export interface HedgeOptions<T> {
  clock: Clock;
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  /** Called once per candidate with its outcome (for health). `aborted` = lost the race. */
  onOutcome?: (c: Candidate<T>, outcome: 'success' | 'failure' | 'aborted', elapsedMs: number, error?: unknown) => void;
  /** Disposes of a success that arrived after the race was decided (wipe key material). */
  discard?: (value: T) => void;
  /** Short reason for an error, for the failure list. */
  reasonOf?: (error: unknown) => string;
}

export interface HedgeResult<T> {
  readonly value: T;
  readonly winner: Candidate<T>;
  /** How many candidates were started. */
  readonly started: number;
  readonly failures: readonly KeyFailure[];
}

export function hedge<T>(candidates: readonly Candidate<T>[], o: HedgeOptions<T>): Promise<HedgeResult<T>> {
  return new Promise((resolve, reject) => {
    const failures: KeyFailure[] = [];
    const running = new Map<number, { ctl: AbortController; start: number; cancelHedge?: () => void }>();
    let next = 0;
    let failed = 0;
    let done = false;
    const reasonOf = o.reasonOf ?? ((e: unknown) => (e instanceof EnvelopeError ? e.code : e instanceof Error ? e.name : 'error'));

    const finish = (): void => {
      done = true;
      cancelDeadline();
      o.signal?.removeEventListener('abort', onCallerAbort);
      for (const [i, r] of running) {
        r.cancelHedge?.();
        if (!candidates[i]!.probe) r.ctl.abort(new EnvelopeError('ENVELOPE_ABORTED', 'another region answered first'));
      }
    };

    const fail = (code: 'ENVELOPE_TIMEOUT' | 'ENVELOPE_ABORTED' | 'ENVELOPE_NO_DECRYPTABLE_KEY', msg: string): void => {
      for (const [i, r] of running) {
        failures.push({
          key: candidates[i]!.key,
          region: candidates[i]!.region,
          reason: code === 'ENVELOPE_TIMEOUT' ? 'deadline exceeded' : 'aborted',
        });
        void r;
      }
      for (let i = next; i < candidates.length; i++) {
        failures.push({ key: candidates[i]!.key, region: candidates[i]!.region, reason: 'not tried' });
      }
      finish();
      reject(new EnvelopeError(code, `${msg}: ${describeFailures(failures)}`, { causes: failures }));
    };

    const start = (): void => {
      if (done || next >= candidates.length) return;
      const c = candidates[next]!;
      // A last-resort candidate starts only when nothing else is still running.
      if (c.lastResort && running.size > 0) return;
      const i = next++;
      const ctl = new AbortController();
      const entry: { ctl: AbortController; start: number; cancelHedge?: () => void } = { ctl, start: o.clock.now() };
      running.set(i, entry);
      entry.cancelHedge = o.clock.setTimer(c.hedgeAfterMs, () => start());
      let p: Promise<T>;
      try {
        p = c.run(ctl.signal);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (value) => {
          const elapsed = o.clock.now() - entry.start;
          running.delete(i);
          entry.cancelHedge?.();
          o.onOutcome?.(c, 'success', elapsed);
          if (done) {
            o.discard?.(value);
            return;
          }
          finish();
          resolve({ value, winner: c, started: next, failures });
        },
        (error: unknown) => {
          const elapsed = o.clock.now() - entry.start;
          running.delete(i);
          entry.cancelHedge?.();
          if (done) {
            o.onOutcome?.(c, ctl.signal.aborted ? 'aborted' : 'failure', elapsed, error);
            return;
          }
          o.onOutcome?.(c, 'failure', elapsed, error);
          failures.push({ key: c.key, region: c.region, reason: reasonOf(error), error });
          failed++;
          if (failed === candidates.length) {
            done = true;
            finish();
            reject(
              new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', `every region failed: ${describeFailures(failures)}`, { causes: failures }),
            );
            return;
          }
          start();
        },
      );
    };

    const onCallerAbort = (): void => {
      if (!done) fail('ENVELOPE_ABORTED', 'aborted by the caller');
    };
    const cancelDeadline = o.clock.setTimer(o.deadlineMs, () => {
      if (!done) fail('ENVELOPE_TIMEOUT', `no region answered within ${o.deadlineMs} ms`);
    });
    if (o.signal?.aborted) {
      onCallerAbort();
      return;
    }
    o.signal?.addEventListener('abort', onCallerAbort, { once: true });
    if (candidates.length === 0) {
      finish();
      reject(new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', 'no candidate key for this message'));
      return;
    }
    start();
  });
}
