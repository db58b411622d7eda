/**
 * Reads that fail over across regions: the key store's table as a DynamoDB global table and its
 * KMS key as a multi-region key give every replica region the same items and the same key
 * material, so a branch key can be read (GetItem + KMS Decrypt) in any of them.
 *
 * Regions are ranked by the project's health registry (the one the multi-region keyring uses)
 * and raced with its `hedge`: the best region starts, the next after its hedge delay, the first
 * answer wins and aborts the rest, and a deadline bounds the whole read. Outcomes feed the
 * registry the same way: failures of the region (timeouts, network errors, 5xx, as keyring-kms's
 * one classification says) count against it; throttling and answers about the item (missing,
 * tampered) do not, since they say nothing about the region's health. An open region is not
 * called.
 */
import { EnvelopeError } from '@envelope/core';
import { CIRCUIT_OPEN, Deadline, SLOW } from '@envelope/keyring-kms';
import { hedge, rankKeys, type Candidate, type HealthRegistry, type KeyArn } from '@envelope/keyring-multi-region';

export interface RegionalReadOptions {
  /** The store's KMS key in each region holding a replica; the first is the home region (tried first while healthy). */
  readonly keys: readonly KeyArn[];
  readonly health: HealthRegistry;
  /** Fixed hedge delay (ms). Default: from each region's latency estimate, within 15..200 ms. */
  readonly hedgeAfterMs?: number | undefined;
  /** Bound on one whole read across regions (ms). */
  readonly deadlineMs: number;
}

/**
 * Runs `read` in the best region, hedging to the others. Resolves with the first success and
 * the region that gave it; `discard` disposes of any later success (wipes key material). When
 * every region fails, rejects with hedge's error (ENVELOPE_TIMEOUT, ENVELOPE_ABORTED or
 * ENVELOPE_NO_DECRYPTABLE_KEY), whose `causes` hold each region's error.
 */
export async function readFromRegions<T>(
  o: RegionalReadOptions,
  label: string,
  read: (region: string, signal: AbortSignal) => Promise<T>,
  discard: (value: T) => void,
  signal: AbortSignal | undefined,
): Promise<{ value: T; region: string; attempts: number }> {
  const clock = o.health.clock;
  // The multi-region keyring's ranking: half-open probes, then the home region while healthy,
  // then by latency; open regions last.
  const ranked = rankKeys(o.keys, o.health, o.keys[0]!.region, { fixedMs: o.hedgeAfterMs, floorMs: 15, ceilingMs: 200 }).filter(
    (c) => !c.probe || o.health.tryAcquire(c.key.region),
  );
  const started = new Map<Candidate<T>, number>();
  const candidates: Candidate<T>[] = ranked.map(({ key, hedgeAfterMs, probe }) => {
    const region = key.region;
    const candidate: Candidate<T> = {
      key: label,
      region,
      hedgeAfterMs,
      probe,
      run: (s: AbortSignal) => {
        // An open breaker's region is not called: it fails at once (as in the multi-region keyring).
        if (!probe && o.health.breakerState(region) === 'open')
          return Promise.reject(
            new EnvelopeError('ENVELOPE_KMS', `${region} is unavailable (circuit open)`, {
              causes: [{ key: label, region, reason: CIRCUIT_OPEN }],
            }),
          );
        started.set(candidate, clock.now());
        return read(region, s);
      },
    };
    return candidate;
  });
  const deadline = new Deadline(o.deadlineMs, signal, clock);
  try {
    const r = await hedge(candidates, {
      clock,
      signal: deadline.signal,
      discard,
      onOutcome: (c, outcome, error) => {
        const t0 = started.get(c);
        if (t0 === undefined) return; // not called
        const elapsed = clock.now() - t0;
        if (outcome === 'success') o.health.recordSuccess(c.region, elapsed);
        else if (outcome === 'failure') o.health.recordError(c.region, error);
        else if (outcome === 'aborted' && elapsed > c.hedgeAfterMs) o.health.recordFailure(c.region, SLOW);
        else o.health.release(c.region);
      },
    });
    return { value: r.value, region: r.winner.region, attempts: r.started };
  } finally {
    deadline.dispose();
  }
}

/** The errors of each region a failed {@link readFromRegions} collected. */
export function regionErrors(e: unknown): unknown[] {
  return e instanceof EnvelopeError ? e.causes.map((c) => c.error).filter((x) => x !== undefined) : [];
}
