/**
 * MultiRegionKeyring: the data key wrapped under a key in every region, and a decrypt that
 * fails over to a healthy region in milliseconds.
 *
 * Encrypt: GenerateDataKey in the primary region, then Encrypt under every other region's key,
 * concurrently. With multi-region keys (replicas of one `mrk-` key) one EDK decrypts in every
 * replica region, so the generator itself fails over across replicas. The encrypt policy says
 * what to do when a region is down: `all` (fail), `primary` (the primary must succeed), or
 * `{ quorum: n }` (at least n regions); a message written without every region carries a
 * `DEGRADED_ENCRYPT` warning naming the missing regions.
 *
 * Decrypt: candidates are (EDK, region) pairs, ranked by the shared region health; the best is
 * started, the next after its hedge delay, and so on; the first success wins and aborts the
 * rest; `deadlineMs` bounds the whole call.
 */
import { randomBytes } from 'node:crypto';
import {
  EnvelopeError,
  describeFailures,
  throwIfAborted,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';
import { parseKeyArn, requireKeyArn, sameKey, type KeyArn } from './arn.js';
import { hedge, type Candidate } from './hedge.js';
import { sharedHealthRegistry, type HealthRegistry } from './health.js';
import type { KmsOperations } from './kms-operations.js';

export type EncryptPolicy = 'all' | 'primary' | { quorum: number };

export interface MultiRegionKeyringOptions {
  /** One key per region; the first is the primary. ARNs (decrypt needs them). */
  keys: readonly { keyId: string }[];
  kms: KmsOperations;
  /** Default `all`. */
  encryptPolicy?: EncryptPolicy;
  /** Fixed hedge delay (ms). Default: from each region's observed latency, within [hedgeFloorMs, hedgeCeilingMs]. */
  hedgeAfterMs?: number;
  hedgeFloorMs?: number;
  hedgeCeilingMs?: number;
  /** Bound on a whole onEncrypt/onDecrypt. Default 5000 ms. */
  deadlineMs?: number;
  /** Bound on one KMS call. Default: deadlineMs. */
  callTimeoutMs?: number;
  /** The local region: tried first when healthy. Default: the primary's region. */
  preferredRegion?: string;
  /** Region health; default the process-wide registry shared by all keyrings. */
  health?: HealthRegistry;
  /** Audit events: failover, degraded encrypt, per-call outcomes. */
  onEvent?: (event: MultiRegionEvent) => void;
}

export type MultiRegionEvent =
  | { type: 'encrypt'; outcome: 'complete' | 'degraded'; regions: string[]; missingRegions: string[]; latencyMs: number }
  | { type: 'decrypt'; region: string; keyArn: string; failover: boolean; attempts: number; latencyMs: number }
  | {
      type: 'call';
      operation: 'GenerateDataKey' | 'Encrypt' | 'Decrypt';
      region: string;
      keyArn: string;
      outcome: 'success' | 'failure' | 'aborted';
      latencyMs: number;
      reason?: string;
    };

const PROVIDER_ID = 'aws-kms';
/** Errors that say something about the region's health (not about the key or the request). */
const HEALTH_REASONS = new Set([
  'TimeoutError',
  'ENVELOPE_TIMEOUT',
  'ThrottlingException',
  'KMSInternalException',
  'ServiceUnavailable',
  'NetworkingError',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'slow',
]);

export class MultiRegionKeyring implements Keyring {
  readonly keys: readonly KeyArn[];
  readonly primary: KeyArn;
  readonly encryptPolicy: EncryptPolicy;
  readonly health: HealthRegistry;
  readonly deadlineMs: number;
  readonly #o: MultiRegionKeyringOptions;
  readonly #callTimeoutMs: number;
  readonly #preferred: string;

  constructor(options: MultiRegionKeyringOptions) {
    if (!options || !Array.isArray(options.keys) || options.keys.length === 0) {
      throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'keys: expected at least one { keyId } (the first is the primary)');
    }
    this.keys = options.keys.map((k, i) => requireKeyArn(k?.keyId, `keys[${i}].keyId`));
    const regions = new Set<string>();
    for (const [i, k] of this.keys.entries()) {
      if (regions.has(k.region))
        throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `keys[${i}].keyId: a second key in region ${k.region}`);
      regions.add(k.region);
    }
    this.primary = this.keys[0]!;
    const policy = options.encryptPolicy ?? 'all';
    if (
      policy !== 'all' &&
      policy !== 'primary' &&
      !(typeof policy === 'object' && Number.isInteger(policy.quorum) && policy.quorum >= 1 && policy.quorum <= this.keys.length)
    ) {
      throw new EnvelopeError(
        'ENVELOPE_INVALID_ARGUMENT',
        `encryptPolicy: expected "all", "primary" or { quorum: 1..${this.keys.length} }`,
      );
    }
    this.encryptPolicy = policy;
    this.deadlineMs = options.deadlineMs ?? 5000;
    this.#callTimeoutMs = options.callTimeoutMs ?? this.deadlineMs;
    this.health = options.health ?? sharedHealthRegistry();
    this.#preferred = options.preferredRegion ?? this.primary.region;
    if (typeof options.kms?.decrypt !== 'function') throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'kms: expected KMS operations');
    this.#o = options;
  }

  /** Region health as this keyring sees it (shared with every keyring on the same registry). */
  healthSnapshot() {
    const mine = new Set(this.keys.map((k) => k.region));
    return this.health.snapshot().filter((h) => mine.has(h.region));
  }

  // ---------------------------------------------------------------- encrypt

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    const started = this.health.clock.now();
    const deadline = deadlineSignal(this.deadlineMs, options?.signal);
    try {
      const wrapped: { region: string; edk: EncryptedDataKey }[] = [];
      const failures: KeyFailure[] = [];
      const allMrk = this.keys.every((k) => sameKey(k, this.primary));
      if (allMrk) {
        // Replicas share key material: one EDK opens in every region, so fail over the generator.
        if (!materials.hasDataKey) {
          const r = await this.#generateAnywhere(materials, deadline.signal);
          wrapped.push(r);
        } else {
          wrapped.push(await this.#wrapAnywhere(materials, deadline.signal));
        }
      } else {
        let rest = this.keys;
        if (!materials.hasDataKey) {
          try {
            wrapped.push(await this.#generate(this.primary, materials, deadline.signal));
            rest = this.keys.slice(1);
          } catch (e) {
            failures.push(failureOf(this.primary, e));
            if (this.encryptPolicy === 'all' || this.encryptPolicy === 'primary') {
              throw keyringFailure('the primary region could not generate a data key', failures);
            }
            // Quorum: make the data key here and wrap it wherever KMS answers.
            const dk = randomBytes(materials.suite.keyLength);
            materials.setDataKey(dk);
            dk.fill(0);
            rest = this.keys.slice(1);
          }
        }
        const settled = await Promise.allSettled(rest.map((k) => this.#wrap(k, materials, deadline.signal)));
        settled.forEach((s, i) => (s.status === 'fulfilled' ? wrapped.push(s.value) : failures.push(failureOf(rest[i]!, s.reason))));
        throwIfAborted(options?.signal);
        const ok = new Set(wrapped.map((w) => w.region));
        const need = this.encryptPolicy === 'all' ? this.keys.length : this.encryptPolicy === 'primary' ? 1 : this.encryptPolicy.quorum;
        if (ok.size < need || (this.encryptPolicy === 'primary' && !ok.has(this.primary.region))) {
          throw keyringFailure(`only ${ok.size} of ${this.keys.length} regions wrapped the data key (policy needs ${need})`, failures);
        }
      }
      for (const w of wrapped) materials.addEncryptedDataKey(w.edk);
      const regions = wrapped.map((w) => w.region);
      const missingRegions = allMrk ? [] : this.keys.map((k) => k.region).filter((r) => !regions.includes(r));
      if (missingRegions.length > 0) {
        materials.addWarning({
          source: 'aws-kms-multi-region',
          code: 'DEGRADED_ENCRYPT',
          message: `data key not wrapped in ${missingRegions.join(', ')}; rewrap with mode "add" once they recover`,
          details: { missingRegions, failures: failures.map(({ key, region, reason }) => ({ key, region, reason })) },
        });
      }
      this.#emit({
        type: 'encrypt',
        outcome: missingRegions.length ? 'degraded' : 'complete',
        regions,
        missingRegions,
        latencyMs: this.health.clock.now() - started,
      });
      return materials;
    } finally {
      deadline.dispose();
    }
  }

  async #generate(key: KeyArn, materials: EncryptionMaterials, signal: AbortSignal): Promise<{ region: string; edk: EncryptedDataKey }> {
    const r = await this.#call(
      'GenerateDataKey',
      key,
      signal,
      (s) =>
        this.#o.kms.generateDataKey({
          region: key.region,
          keyId: key.arn,
          numberOfBytes: materials.suite.keyLength,
          encryptionContext: materials.encryptionContext,
          signal: s,
        }),
      (late) => late.plaintext.fill(0),
    );
    try {
      if (r.plaintext.byteLength !== materials.suite.keyLength)
        throw new EnvelopeError('ENVELOPE_KMS', 'GenerateDataKey returned a key of the wrong length');
      if (!materials.hasDataKey) materials.setDataKey(r.plaintext);
    } finally {
      r.plaintext.fill(0);
    }
    return { region: key.region, edk: edkOf(r.keyArn, r.ciphertext) };
  }

  async #wrap(key: KeyArn, materials: EncryptionMaterials, signal: AbortSignal): Promise<{ region: string; edk: EncryptedDataKey }> {
    const dk = materials.getDataKey();
    try {
      const r = await this.#call('Encrypt', key, signal, (s) =>
        this.#o.kms.encrypt({
          region: key.region,
          keyId: key.arn,
          plaintext: dk,
          encryptionContext: materials.encryptionContext,
          signal: s,
        }),
      );
      return { region: key.region, edk: edkOf(r.keyArn, r.ciphertext) };
    } finally {
      dk.fill(0);
    }
  }

  /** MRK mode: GenerateDataKey in the best healthy replica region, hedged. */
  async #generateAnywhere(materials: EncryptionMaterials, signal: AbortSignal): Promise<{ region: string; edk: EncryptedDataKey }> {
    const results = await this.#race(
      this.#ranked(this.keys).map((c) => ({
        ...c,
        run: async (s: AbortSignal) => {
          const r = await this.#o.kms.generateDataKey({
            region: c.key.region,
            keyId: c.key.arn,
            numberOfBytes: materials.suite.keyLength,
            encryptionContext: materials.encryptionContext,
            signal: s,
          });
          return { region: c.key.region, keyArn: r.keyArn, ciphertext: r.ciphertext, secret: r.plaintext };
        },
      })),
      'GenerateDataKey',
      signal,
    );
    try {
      if (results.secret.byteLength !== materials.suite.keyLength)
        throw new EnvelopeError('ENVELOPE_KMS', 'GenerateDataKey returned a key of the wrong length');
      materials.setDataKey(results.secret);
    } finally {
      results.secret.fill(0);
    }
    return { region: results.region, edk: edkOf(results.keyArn, results.ciphertext) };
  }

  /** MRK mode with a data key already present: Encrypt in the best healthy replica region, hedged. */
  async #wrapAnywhere(materials: EncryptionMaterials, signal: AbortSignal): Promise<{ region: string; edk: EncryptedDataKey }> {
    const dk = materials.getDataKey();
    try {
      const r = await this.#race(
        this.#ranked(this.keys).map((c) => ({
          ...c,
          run: async (s: AbortSignal) => {
            const out = await this.#o.kms.encrypt({
              region: c.key.region,
              keyId: c.key.arn,
              plaintext: dk,
              encryptionContext: materials.encryptionContext,
              signal: s,
            });
            return { region: c.key.region, keyArn: out.keyArn, ciphertext: out.ciphertext, secret: new Uint8Array(0) };
          },
        })),
        'Encrypt',
        signal,
      );
      return { region: r.region, edk: edkOf(r.keyArn, r.ciphertext) };
    } finally {
      dk.fill(0);
    }
  }

  // ---------------------------------------------------------------- decrypt

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    throwIfAborted(options?.signal);
    // Every (EDK, configured key) pair that can open it: for a multi-region key, every replica region.
    const pairs: { key: KeyArn; edk: EncryptedDataKey }[] = [];
    for (const edk of edks) {
      if (edk.providerId !== PROVIDER_ID) continue;
      const arn = parseKeyArn(Buffer.from(edk.providerInfo).toString('utf8'));
      if (!arn) continue;
      for (const key of this.keys) if (sameKey(key, arn)) pairs.push({ key, edk });
    }
    if (pairs.length === 0) return materials; // none of ours
    const started = this.health.clock.now();
    const ec = materials.encryptionContext;
    const ranked = this.#ranked([...new Set(pairs.map((p) => p.key))]);
    const candidates = ranked.map((c) => {
      const edk = pairs.find((p) => p.key === c.key)!.edk;
      return {
        ...c,
        run: async (s: AbortSignal) => {
          const r = await this.#o.kms.decrypt({
            region: c.key.region,
            keyArn: c.key.arn,
            ciphertext: edk.ciphertext,
            encryptionContext: ec,
            signal: s,
          });
          if (r.plaintext.byteLength !== materials.suite.keyLength) {
            r.plaintext.fill(0);
            throw new EnvelopeError('ENVELOPE_KMS', 'Decrypt returned a key of the wrong length');
          }
          return { region: c.key.region, keyArn: c.key.arn, ciphertext: edk.ciphertext, secret: r.plaintext };
        },
      };
    });
    const won = await this.#race(candidates, 'Decrypt', options?.signal);
    try {
      materials.setDataKey(won.secret);
    } finally {
      won.secret.fill(0);
    }
    this.#emit({
      type: 'decrypt',
      region: won.region,
      keyArn: won.keyArn,
      failover: won.region !== candidates[0]!.key.region,
      attempts: won.attempts,
      latencyMs: this.health.clock.now() - started,
    });
    return materials;
  }

  // ---------------------------------------------------------------- shared machinery

  /**
   * Orders keys by region health: the preferred region first while its breaker is closed, then
   * the other healthy regions by latency estimate; half-open regions go first with a hedge delay
   * of zero (their one probe runs beside the best healthy region, so probing costs no latency);
   * open regions come last, as a last resort.
   */
  #ranked(keys: readonly KeyArn[]): { key: KeyArn; region: string; hedgeAfterMs: number; probe: boolean; lastResort: boolean }[] {
    const h = this.health;
    const scored = keys.map((key) => ({
      key,
      state: h.breakerState(key.region),
      latency: h.latency(key.region) ?? 50,
      preferred: key.region === this.#preferred,
    }));
    const closed = scored
      .filter((s) => s.state === 'closed')
      .sort((a, b) => (a.preferred !== b.preferred ? (a.preferred ? -1 : 1) : a.latency - b.latency));
    const half = scored.filter((s) => s.state === 'half-open');
    const open = scored.filter((s) => s.state === 'open').sort((a, b) => a.latency - b.latency);
    return [
      ...half.map((s) => ({ key: s.key, region: s.key.region, hedgeAfterMs: 0, probe: true, lastResort: false })),
      ...closed.map((s) => ({
        key: s.key,
        region: s.key.region,
        hedgeAfterMs: this.#hedgeDelay(s.key.region),
        probe: false,
        lastResort: false,
      })),
      ...open.map((s) => ({
        key: s.key,
        region: s.key.region,
        hedgeAfterMs: this.#hedgeDelay(s.key.region),
        probe: false,
        lastResort: true,
      })),
    ];
  }

  /** The configured delay, or the region's latency estimate plus four deviations, clamped. */
  #hedgeDelay(region: string): number {
    if (this.#o.hedgeAfterMs !== undefined) return this.#o.hedgeAfterMs;
    const floor = this.#o.hedgeFloorMs ?? 15;
    const ceiling = this.#o.hedgeCeilingMs ?? 200;
    const l = this.health.latency(region);
    if (l === undefined) return Math.min(100, ceiling);
    return Math.max(floor, Math.min(ceiling, l + 4 * (this.health.deviation(region) ?? l / 2)));
  }

  async #race<T extends { region: string; keyArn: string; ciphertext: Uint8Array; secret: Uint8Array }>(
    candidates: (Omit<Candidate<T>, 'key'> & { key: KeyArn; run: (s: AbortSignal) => Promise<T> })[],
    operation: 'GenerateDataKey' | 'Encrypt' | 'Decrypt',
    signal: AbortSignal | undefined,
  ): Promise<T & { attempts: number }> {
    const clock = this.health.clock;
    const admitted = candidates.filter((c) => !c.probe || this.health.tryAcquire(c.region));
    const r = await hedge<T>(
      admitted.map((c) => ({
        key: c.key.arn,
        region: c.region,
        hedgeAfterMs: c.hedgeAfterMs,
        probe: c.probe,
        lastResort: c.lastResort,
        run: (s) => withTimeout(this.#callTimeoutMs, s, c.run, (late) => late.secret.fill(0)),
      })),
      {
        clock,
        deadlineMs: this.deadlineMs,
        signal,
        reasonOf,
        discard: (v) => v.secret.fill(0),
        onOutcome: (c, outcome, elapsed, error) => {
          const reason = error === undefined ? undefined : reasonOf(error);
          if (outcome === 'success') this.health.recordSuccess(c.region, elapsed);
          else if (outcome === 'failure' && HEALTH_REASONS.has(reason!)) this.health.recordFailure(c.region, reason!);
          else if (outcome === 'aborted' && elapsed > c.hedgeAfterMs) this.health.recordFailure(c.region, 'slow');
          else this.health.release(c.region);
          this.#emit({
            type: 'call',
            operation,
            region: c.region,
            keyArn: c.key,
            outcome,
            latencyMs: elapsed,
            ...(reason ? { reason } : {}),
          });
        },
      },
    );
    return Object.assign(r.value, { attempts: r.started });
  }

  /** One non-hedged call (encrypt fan-out), recorded in region health; `discard` wipes a late answer. */
  async #call<T>(
    operation: 'GenerateDataKey' | 'Encrypt',
    key: KeyArn,
    signal: AbortSignal,
    run: (s: AbortSignal) => Promise<T>,
    discard?: (late: T) => void,
  ): Promise<T> {
    const clock = this.health.clock;
    const start = clock.now();
    try {
      const r = await withTimeout(this.#callTimeoutMs, signal, run, discard);
      this.health.recordSuccess(key.region, clock.now() - start);
      this.#emit({ type: 'call', operation, region: key.region, keyArn: key.arn, outcome: 'success', latencyMs: clock.now() - start });
      return r;
    } catch (e) {
      const reason = reasonOf(e);
      if (HEALTH_REASONS.has(reason)) this.health.recordFailure(key.region, reason);
      this.#emit({
        type: 'call',
        operation,
        region: key.region,
        keyArn: key.arn,
        outcome: 'failure',
        latencyMs: clock.now() - start,
        reason,
      });
      throw e;
    }
  }

  #emit(e: MultiRegionEvent): void {
    try {
      this.#o.onEvent?.(e);
    } catch {
      // An audit sink must not break encryption.
    }
  }
}

function edkOf(keyArn: string, ciphertext: Uint8Array): EncryptedDataKey {
  return { providerId: PROVIDER_ID, providerInfo: Buffer.from(keyArn, 'utf8'), ciphertext };
}

function failureOf(key: KeyArn, e: unknown): KeyFailure {
  return { key: key.arn, region: key.region, reason: reasonOf(e), error: e };
}

function keyringFailure(what: string, causes: KeyFailure[]): EnvelopeError {
  return new EnvelopeError('ENVELOPE_KEYRING_FAILURE', `multi-region encrypt failed: ${what}: ${describeFailures(causes)}`, { causes });
}

/** A short reason: the KMS exception name, a network error code, or our error code. */
export function reasonOf(e: unknown): string {
  if (e instanceof EnvelopeError) {
    const inner = e.causes[0]?.reason;
    return e.code === 'ENVELOPE_KMS' && inner ? inner : e.code;
  }
  const err = e as { name?: string; code?: string; $metadata?: unknown };
  if (err?.code && /^E[A-Z]+$/.test(err.code)) return err.code;
  return err?.name ?? 'error';
}

/**
 * Runs `fn` under a per-call timeout and the caller's signal. An answer that arrives after the
 * call was given up (KMS operations that ignore their signal, a response already in flight) goes
 * to `discard`, which wipes the data key in it.
 */
async function withTimeout<T>(
  ms: number,
  signal: AbortSignal,
  fn: (s: AbortSignal) => Promise<T>,
  discard?: (late: T) => void,
): Promise<T> {
  const d = deadlineSignal(ms, signal);
  try {
    return await new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        settled = true;
        reject(d.signal.reason instanceof Error ? d.signal.reason : new EnvelopeError('ENVELOPE_ABORTED', 'aborted'));
      };
      if (d.signal.aborted) return onAbort();
      d.signal.addEventListener('abort', onAbort, { once: true });
      fn(d.signal).then(
        (v) => {
          if (!settled) {
            settled = true;
            resolve(v);
            return;
          }
          try {
            discard?.(v);
          } catch {
            // The caller has its answer already.
          }
        },
        (e: unknown) => {
          settled = true;
          reject(e);
        },
      );
    });
  } finally {
    d.dispose();
  }
}

/** An AbortSignal that fires after `ms` or when `parent` does. */
function deadlineSignal(ms: number, parent: AbortSignal | undefined): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new EnvelopeError('ENVELOPE_TIMEOUT', `no answer within ${ms} ms`)), ms);
  timer.unref?.();
  const onParent = (): void =>
    ctl.abort(
      parent!.reason instanceof EnvelopeError
        ? parent!.reason
        : new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: parent!.reason }),
    );
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ctl.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
