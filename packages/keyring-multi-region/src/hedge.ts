/**
 * Hedged execution: start the best candidate; if it has not answered within its hedge delay,
 * start the next as well, and so on. The first success wins and aborts the rest (probes of a
 * half-open breaker run on so that their verdict is recorded). The caller's signal, usually a
 * keyring-kms {@link Deadline}, bounds the whole call: its ENVELOPE_TIMEOUT ends the race as a
 * timeout, any other abort as ENVELOPE_ABORTED.
 */
import { EnvelopeError, describeFailures, type KeyFailure } from '@envelope/core';
import { Deadline, codeForFailures, reasonOf, type Clock } from '@envelope/keyring-kms';

export interface Candidate<T> {
  /** Label for errors: key ARN. */
  readonly key: string;
  readonly region: string;
  /** Start no later than this many ms after the previous candidate started. */
  readonly hedgeAfterMs: number;
  /** A half-open breaker's probe: not aborted when another candidate wins. */
  readonly probe?: boolean;
  /** Its signal inherits the race's deadline (keyring-kms `remainingMs` reads it). */
  run(signal: AbortSignal): Promise<T>;
}

export interface HedgeOptions<T> {
  clock: Clock;
  /** Ends the race: ENVELOPE_TIMEOUT if its reason is one (a {@link Deadline}), else ENVELOPE_ABORTED. */
  signal?: AbortSignal | undefined;
  /** Failures known before the race (regions skipped because their breaker is open): listed in the error. */
  skipped?: readonly KeyFailure[] | undefined;
  /** Called once per candidate with its outcome (for health). `aborted` = lost the race or ended by the deadline. */
  onOutcome?: (c: Candidate<T>, outcome: 'success' | 'failure' | 'aborted', error?: unknown) => void;
  /** Disposes of a success that arrived after the race was decided (wipe key material). */
  discard?: (value: T) => void;
}

export interface HedgeResult<T> {
  readonly value: T;
  readonly winner: Candidate<T>;
  /** How many candidates were started. */
  readonly started: number;
  readonly failures: readonly KeyFailure[];
}

/**
 * Races `candidates` (best first). Resolves with the first success; rejects with one coded
 * error listing every candidate and skipped region: ENVELOPE_ABORTED, ENVELOPE_TIMEOUT at the
 * deadline, otherwise as keyring-kms `codeForFailures` says (ENVELOPE_THROTTLED,
 * ENVELOPE_TIMEOUT or ENVELOPE_NO_DECRYPTABLE_KEY).
 *
 * @example
 * ```ts
 * const d = new Deadline(5000, callerSignal, clock);
 * const { value } = await hedge(candidates, { clock, signal: d.signal });
 * ```
 */
export function hedge<T>(candidates: readonly Candidate<T>[], o: HedgeOptions<T>): Promise<HedgeResult<T>> {
  return new Promise((resolve, reject) => {
    const failures: KeyFailure[] = [];
    const running = new Map<number, { d: Deadline; cancelHedge: () => void }>();
    let next = 0;
    let failed = 0;
    let done = false;

    const all = (): KeyFailure[] => [...failures, ...(o.skipped ?? [])];

    const finish = (why = new EnvelopeError('ENVELOPE_ABORTED', 'another region answered first')): void => {
      done = true;
      o.signal?.removeEventListener('abort', onSignal);
      for (const [i, r] of running) {
        r.cancelHedge();
        if (!candidates[i]!.probe) r.d.abort(why);
      }
    };

    const start = (): void => {
      if (done || next >= candidates.length) return;
      const i = next++;
      const c = candidates[i]!;
      const d = new Deadline(Infinity, o.signal, o.clock);
      const entry = { d, cancelHedge: o.clock.setTimer(c.hedgeAfterMs, () => start()) };
      running.set(i, entry);
      let p: Promise<T>;
      try {
        p = c.run(d.signal);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (value) => {
          settle(i, entry);
          o.onOutcome?.(c, 'success');
          if (done) {
            o.discard?.(value);
            return;
          }
          finish();
          resolve({ value, winner: c, started: next, failures });
        },
        (error: unknown) => {
          settle(i, entry);
          if (done) {
            o.onOutcome?.(c, d.signal.aborted ? 'aborted' : 'failure', error);
            return;
          }
          o.onOutcome?.(c, 'failure', error);
          failures.push({ key: c.key, region: c.region, reason: reasonOf(error), error });
          if (++failed === candidates.length) {
            finish();
            const causes = all();
            reject(
              new EnvelopeError(
                codeForFailures(causes, 'ENVELOPE_NO_DECRYPTABLE_KEY'),
                `every region failed: ${describeFailures(causes)}`,
                { causes },
              ),
            );
            return;
          }
          start();
        },
      );
    };

    const settle = (i: number, entry: { d: Deadline; cancelHedge: () => void }): void => {
      running.delete(i);
      entry.cancelHedge();
      entry.d.dispose();
    };

    function onSignal(): void {
      if (done) return;
      const timeout = o.signal?.reason instanceof EnvelopeError && o.signal.reason.code === 'ENVELOPE_TIMEOUT';
      for (const i of running.keys()) {
        const c = candidates[i]!;
        failures.push({ key: c.key, region: c.region, reason: timeout ? 'TimeoutError' : 'Aborted' });
      }
      for (let i = next; i < candidates.length; i++)
        failures.push({ key: candidates[i]!.key, region: candidates[i]!.region, reason: 'not tried' });
      finish(o.signal?.reason instanceof EnvelopeError ? o.signal.reason : undefined);
      const causes = all();
      const msg = timeout ? `no region answered in time` : 'aborted by the caller';
      reject(new EnvelopeError(timeout ? 'ENVELOPE_TIMEOUT' : 'ENVELOPE_ABORTED', `${msg}: ${describeFailures(causes)}`, { causes }));
    }

    if (o.signal?.aborted) return onSignal();
    o.signal?.addEventListener('abort', onSignal, { once: true });
    if (candidates.length === 0) {
      finish();
      const causes = all();
      reject(
        new EnvelopeError(
          codeForFailures(causes, 'ENVELOPE_NO_DECRYPTABLE_KEY'),
          causes.length ? `every region failed: ${describeFailures(causes)}` : 'no candidate key for this message',
          { causes },
        ),
      );
      return;
    }
    start();
  });
}
