/**
 * MultiRegionKeyring: the data key wrapped under a key in every region, and a decrypt that
 * fails over to a healthy region in milliseconds. The steps live beside it: encrypt.ts (the
 * fan-out and the policy), decrypt.ts, race.ts (the hedged race), region-caller.ts (breaker
 * admission, pacing, health), ranking.ts, options.ts.
 */
import {
  throwIfAborted,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type Keyring,
  type KeyringCallOptions,
  invalidArgument,
} from '@envelope/core';
import {
  Deadline,
  Retrier,
  defaultPacerFor,
  sharedHealthRegistry,
  type HealthRegistry,
  type RegionHealth,
  type RegionPacer,
} from '@envelope/keyring-kms';
import type { KeyArn } from './arn.js';
import { decryptPairs, unwrapAnywhere } from './decrypt.js';
import { allReplicas, wrapAnywhere, wrapEverywhere } from './encrypt.js';
import { checkKeys, checkMs, checkPolicy, type EncryptPolicy, type MultiRegionEvent, type MultiRegionKeyringOptions } from './options.js';
import type { KeyringContext } from './race.js';
import { RegionCaller } from './region-caller.js';

/**
 * The data key wrapped under a key in every region; decrypt through whichever region is
 * healthy.
 *
 * Encrypt: GenerateDataKey in the primary region, then Encrypt under every other region's key,
 * concurrently. With multi-region keys (replicas of one `mrk-` key) one EDK decrypts in every
 * replica region, so the generator itself fails over across replicas. The encrypt policy says
 * what to do when a region is down: `all` (fail), `primary` (the primary must succeed), or
 * `{ quorum: n }` (at least n regions); a message written without every region carries a
 * `DEGRADED_ENCRYPT` warning whose `details.missingRegions` lists the regions it lacks (repair
 * it later with `envelope rewrap --mode repair`).
 *
 * Decrypt: candidates are (EDK, region) pairs, ranked by the shared region health; the best is
 * started, the next after its hedge delay, and so on; the first success wins and aborts the
 * rest; `deadlineMs` bounds the whole call.
 *
 * Every call: a region whose breaker is open fails at once (reason `CircuitOpen`); calls are
 * paced to each region's learned quota, and throttling (load, not ill health) never opens a
 * breaker. Failures are one coded error listing each key, region and reason (keyring-kms
 * `codeForFailures`): ENVELOPE_THROTTLED when a reachable region was at its quota and the
 * others down, else ENVELOPE_TIMEOUT when a deadline passed, else ENVELOPE_NO_DECRYPTABLE_KEY
 * (decrypt) or ENVELOPE_KEYRING_FAILURE (encrypt).
 *
 * @example
 * ```ts
 * const keyring = new MultiRegionKeyring({
 *   keys: [{ keyId: 'arn:aws:kms:us-east-1:111122223333:key/k-east' }, { keyId: 'arn:aws:kms:eu-west-1:111122223333:key/k-eu' }],
 *   kms: kmsOperations(kmsClientSupplier()),
 *   encryptPolicy: { quorum: 1 },
 * });
 * ```
 */
export class MultiRegionKeyring implements Keyring {
  readonly keys: readonly KeyArn[];
  readonly primary: KeyArn;
  readonly encryptPolicy: EncryptPolicy;
  readonly health: HealthRegistry;
  readonly pacer: RegionPacer;
  readonly deadlineMs: number;
  readonly #ctx: KeyringContext;
  readonly #onEvent: ((event: MultiRegionEvent) => void) | undefined;
  readonly #options: MultiRegionKeyringOptions;

  constructor(options: MultiRegionKeyringOptions) {
    this.#options = options;
    this.keys = checkKeys(options?.keys);
    this.primary = this.keys[0]!;
    this.encryptPolicy = checkPolicy(options.encryptPolicy, this.keys.length);
    if (typeof options.kms?.decrypt !== 'function') throw invalidArgument('kms', 'expected KMS operations');
    this.deadlineMs = checkMs('deadlineMs', options.deadlineMs) ?? 5000;
    const callTimeoutMs = checkMs('callTimeoutMs', options.callTimeoutMs) ?? this.deadlineMs;
    this.health = options.health ?? sharedHealthRegistry();
    const clock = this.health.clock;
    // One clock for everything time-based: a pacer on another clock could not read our deadlines.
    this.pacer = options.pacer ?? defaultPacerFor(clock);
    this.#onEvent = options.onEvent;
    const emit = (e: MultiRegionEvent): void => this.#emit(e);
    const retrier = new Retrier({
      callTimeoutMs,
      maxRetries: options.maxThrottleRetries ?? 2,
      pacer: this.pacer,
      clock,
      ...(options.retryBudget ? { retryBudget: options.retryBudget } : {}),
    });
    this.#ctx = {
      keys: this.keys,
      primary: this.primary,
      policy: this.encryptPolicy,
      kms: options.kms,
      caller: new RegionCaller(this.health, retrier, emit),
      preferredRegion: options.preferredRegion ?? this.primary.region,
      delays: {
        fixedMs: checkMs('hedgeAfterMs', options.hedgeAfterMs, 0),
        floorMs: checkMs('hedgeFloorMs', options.hedgeFloorMs, 0) ?? 15,
        ceilingMs: checkMs('hedgeCeilingMs', options.hedgeCeilingMs, 0) ?? 200,
      },
      emit,
    };
  }

  /** The regions of this keyring's keys, primary first. */
  get regions(): string[] {
    return this.keys.map((k) => k.region);
  }

  /**
   * This keyring's keys in `regions` only, on the same KMS operations, health registry and pacer
   * (so a region's breaker is one breaker for both), with encrypt policy `all`. For disaster
   * recovery: `restrictedTo(remaining).onDecrypt` proves a message opens without the lost
   * regions (`dr-report --verify`); `restrictedTo(missing).onEncrypt` on materials that hold
   * the data key wraps it in just the regions a message lacks (`rewrap --mode repair`).
   * A region that is not one of this keyring's is an error (ENVELOPE_INVALID_ARGUMENT).
   */
  restrictedTo(regions: readonly string[]): MultiRegionKeyring {
    const unknown = regions.filter((r) => !this.keys.some((k) => k.region === r));
    if (unknown.length > 0 || regions.length === 0) {
      throw invalidArgument(
        'regions',
        `expected one or more of this keyring's regions (${this.regions.join(', ')})${unknown.length ? `, not ${unknown.join(', ')}` : ''}`,
      );
    }
    const kept = this.keys.filter((k) => regions.includes(k.region));
    const keys = kept.map((k) => ({ keyId: k.arn }));
    const preferredRegion = regions.includes(this.#ctx.preferredRegion) ? this.#ctx.preferredRegion : kept[0]!.region;
    return new MultiRegionKeyring({
      ...this.#options,
      keys,
      encryptPolicy: 'all',
      health: this.health,
      pacer: this.pacer,
      preferredRegion,
    });
  }

  /** Region health as this keyring sees it (shared with every keyring on the same registry). */
  healthSnapshot(): RegionHealth[] {
    const mine = new Set(this.regions);
    return this.health.snapshot().filter((h) => mine.has(h.region));
  }

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    const clock = this.health.clock;
    const started = clock.now();
    const deadline = new Deadline(this.deadlineMs, options?.signal, clock);
    try {
      const replicas = allReplicas(this.#ctx);
      const { edks, failures } = replicas
        ? await wrapAnywhere(this.#ctx, materials, deadline.signal)
        : await wrapEverywhere(this.#ctx, materials, deadline.signal);
      throwIfAborted(options?.signal);
      for (const w of edks) materials.addEncryptedDataKey(w.edk);
      const regions = edks.map((w) => w.region);
      // Replicas share key material: the one EDK opens in every region, so nothing is missing.
      const missingRegions = replicas ? [] : this.regions.filter((r) => !regions.includes(r));
      if (missingRegions.length > 0) {
        materials.addWarning({
          source: 'aws-kms-multi-region',
          code: 'DEGRADED_ENCRYPT',
          message: `missing regions ${missingRegions.join(',')}: the data key is not wrapped there; repair with "envelope rewrap --mode repair" once they recover`,
          details: {
            missingRegions,
            wrappedRegions: regions,
            failures: failures.map(({ key, region, reason }) => ({ key, region, reason })),
          },
        });
      }
      this.#emit({
        type: 'encrypt',
        outcome: missingRegions.length ? 'degraded' : 'complete',
        regions,
        missingRegions,
        latencyMs: clock.now() - started,
      });
      return materials;
    } finally {
      deadline.dispose();
    }
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    throwIfAborted(options?.signal);
    const pairs = decryptPairs(this.keys, edks);
    if (pairs.size === 0) return materials; // none of ours
    const clock = this.health.clock;
    const started = clock.now();
    const deadline = new Deadline(this.deadlineMs, options?.signal, clock);
    try {
      const won = await unwrapAnywhere(this.#ctx, materials, pairs, deadline.signal);
      this.#emit({ type: 'decrypt', ...won, latencyMs: clock.now() - started });
      return materials;
    } finally {
      deadline.dispose();
    }
  }

  #emit(e: MultiRegionEvent): void {
    try {
      this.#onEvent?.(e);
    } catch {
      // An audit sink must not break encryption.
    }
  }
}
