/**
 * The state an onEncrypt/onDecrypt shares, and the hedged race across regions that decrypt (and
 * multi-region-key encrypt) run: candidates ranked by health, each admitted by its breaker,
 * paced and recorded by the {@link RegionCaller}.
 */
import type { EncryptedDataKey } from '@envelope/core';
import { KMS_PROVIDER_ID, type KmsOperations } from '@envelope/keyring-kms';
import type { KeyArn } from './arn.js';
import { hedge, type Candidate } from './hedge.js';
import type { EncryptPolicy, MultiRegionEvent } from './options.js';
import { rankKeys, type HedgeDelays } from './ranking.js';
import type { CallTrack, Operation, RegionCaller } from './region-caller.js';

/** What one keyring's encrypt and decrypt steps need. */
export interface KeyringContext {
  readonly keys: readonly KeyArn[];
  readonly primary: KeyArn;
  readonly policy: EncryptPolicy;
  readonly kms: KmsOperations;
  readonly caller: RegionCaller;
  readonly preferredRegion: string;
  readonly delays: HedgeDelays;
  readonly emit: (e: MultiRegionEvent) => void;
}

/** The answer of one region in a race; `secret` (a data key, or empty) is wiped by whoever does not keep it. */
export interface RegionAnswer {
  readonly region: string;
  readonly keyArn: string;
  readonly ciphertext: Uint8Array;
  readonly secret: Uint8Array;
}

/**
 * Races `keys` (ranked by health) under `signal`: the first region to answer wins; late
 * answers are wiped. Rejects with the hedge's coded error listing every region.
 */
export async function raceRegions<T extends RegionAnswer>(
  ctx: KeyringContext,
  op: Operation,
  keys: readonly KeyArn[],
  signal: AbortSignal,
  run: (key: KeyArn, s: AbortSignal) => Promise<T>,
): Promise<T & { attempts: number; first: KeyArn }> {
  const { caller } = ctx;
  const ranked = rankKeys(keys, caller.health, ctx.preferredRegion, ctx.delays);
  const tracks = new Map<Candidate<T>, { key: KeyArn; track: CallTrack; admitted: boolean }>();
  const candidates = ranked.map((r): Candidate<T> => {
    const c: Candidate<T> = {
      key: r.key.arn,
      region: r.key.region,
      hedgeAfterMs: r.hedgeAfterMs,
      probe: r.probe,
      run: async (s) => {
        const t = tracks.get(c)!;
        t.track = { startedAt: caller.clock.now() };
        caller.admit(op, r.key); // throws at once for an open breaker
        t.admitted = true;
        return caller.send(
          r.key,
          s,
          (s2) => run(r.key, s2),
          t.track,
          (late) => late.secret.fill(0),
        );
      },
    };
    tracks.set(c, { key: r.key, track: { startedAt: caller.clock.now() }, admitted: false });
    return c;
  });
  const result = await hedge(candidates, {
    clock: caller.clock,
    signal,
    discard: (v) => v.secret.fill(0),
    onOutcome: (c, outcome, error) => {
      const t = tracks.get(c)!;
      if (t.admitted) caller.record(op, t.key, outcome, t.track, error, c.hedgeAfterMs);
    },
  });
  return Object.assign(result.value, { attempts: result.started, first: ranked[0]!.key });
}

/** An `aws-kms` EDK for a key ARN (provider info = the ARN, as the AWS Encryption SDK writes it). */
export function edkOf(keyArn: string, ciphertext: Uint8Array): EncryptedDataKey {
  return { providerId: KMS_PROVIDER_ID, providerInfo: new TextEncoder().encode(keyArn), ciphertext };
}
