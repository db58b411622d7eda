/**
 * The branch key materials cache
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#initialization)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#cache-limit-ttl)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#appendix-a-cache-entry-identifier-formulas)
 * (spec: framework/local-cryptographic-materials-cache.md#local-cryptographic-materials-cache): an
 * LRU with an entry limit and a TTL. It owns what it stores and hands out copies; every way out
 * (LRU eviction, expiry, replacement, clear) zeroizes the key.
 *
 * Misses are single-flight: while one load of an entry runs, every other request for it joins
 * that load, so a cold cache under a thousand concurrent encrypts makes one DynamoDB read and one
 * KMS Decrypt. A failed load rejects every waiter and caches nothing. A waiter's AbortSignal only
 * removes that waiter; the load's own signal fires when every waiter has left.
 *
 * Refresh-ahead (the storm-tracking idea, in its simplest form:
 * (spec: framework/storm-tracking-cryptographic-materials-cache.md#storm-tracking-cryptographic-materials-cache)):
 * a hit in the last `refreshAheadMs` of an entry's life starts one load in the background and is
 * served from the entry meanwhile, so a busy branch key is replaced before it expires instead of
 * every request waiting for the store at the TTL boundary. A failed refresh changes nothing; the
 * entry still expires at its TTL.
 */
import { createHash } from 'node:crypto';
import { EnvelopeError, abortedError, invalidArgument } from '@envelope/core';
import type { BranchKeyMaterials } from './branch-key-materials.js';

export interface BranchKeyCacheOptions {
  /** Most entries held (LRU beyond). Default 1000 (spec: framework/local-cryptographic-materials-cache.md#entry-capacity). */
  capacity?: number | undefined;
  /** Milliseconds, monotonic; injectable for tests. Default `performance.now`. */
  now?: (() => number) | undefined;
}

/** What the cache did, for metrics and tests. */
export interface BranchKeyCacheStats {
  hits: number;
  misses: number;
  /** Loads started (one per single-flight, however many waited on it). */
  loads: number;
  /** Entries zeroized and dropped for capacity. */
  evictions: number;
  /** Entries zeroized and dropped past their TTL. */
  expirations: number;
  /** Background loads started by hits near an entry's expiry. */
  refreshes: number;
}

interface Entry {
  readonly materials: BranchKeyMaterials;
  readonly createdAt: number;
  readonly expiresAt: number;
}

interface Waiter {
  resolve(m: BranchKeyMaterials): void;
  reject(e: unknown): void;
  detach(): void;
}

interface Flight {
  readonly waiters: Set<Waiter>;
  readonly controller: AbortController;
  /** Settles when the load has been handled (cached, or its failure passed on). */
  done: Promise<void>;
}

/** Resource and scope ids of Appendix A. */
const HIERARCHICAL_KEYRING = 0x02;
export const ENCRYPT_SCOPE = 0x01;
export const DECRYPT_SCOPE = 0x02;

/**
 * The cache entry identifier
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#appendix-a-cache-entry-identifier-formulas):
 * SHA-384 of resource id ‖ 0 ‖ scope ‖ 0 ‖ partition id ‖ 0 ‖ logical key store name ‖ 0 ‖ branch
 * key id (‖ 0 ‖ version, for decrypt). Keyrings that share a cache, a partition id and a logical
 * store name share entries.
 */
export function cacheId(
  scope: number,
  partitionId: Uint8Array,
  logicalKeyStoreName: string,
  branchKeyId: string,
  version?: string,
): string {
  const h = createHash('sha384')
    .update(Uint8Array.of(HIERARCHICAL_KEYRING, 0, scope, 0))
    .update(partitionId)
    .update(Uint8Array.of(0));
  h.update(logicalKeyStoreName, 'utf8').update(Uint8Array.of(0)).update(branchKeyId, 'utf8');
  if (version !== undefined) h.update(Uint8Array.of(0)).update(version, 'utf8');
  return h.digest('base64');
}

/**
 * Branch key materials by cache id.
 *
 * @example
 * ```ts
 * const cache = new BranchKeyCache({ capacity: 1000 });
 * const m = await cache.getOrLoad(id, (signal) => store.getActiveBranchKey(branchKeyId, { signal }), { ttlMs: 600_000 });
 * try { use(m); } finally { m.zeroize(); }
 * ```
 */
export class BranchKeyCache {
  readonly capacity: number;
  readonly stats: BranchKeyCacheStats = { hits: 0, misses: 0, loads: 0, evictions: 0, expirations: 0, refreshes: 0 };
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #flights = new Map<string, Flight>();

  constructor(o: BranchKeyCacheOptions = {}) {
    const capacity = o.capacity ?? 1000;
    if (!Number.isInteger(capacity) || capacity < 1) throw invalidArgument('capacity', 'expected an integer ≥ 1');
    this.capacity = capacity;
    this.#now = o.now ?? (() => performance.now());
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Loads running now. */
  get inFlight(): number {
    return this.#flights.size;
  }

  /** Resolves once every load running now (background refreshes included) has been handled. */
  async idle(): Promise<void> {
    await Promise.all([...this.#flights.values()].map((f) => f.done));
  }

  /**
   * A copy of the entry for `id` if one is younger than `maxAgeMs` and its own TTL (the caller
   * owns and zeroizes the copy); an expired entry is zeroized and dropped.
   */
  get(id: string, maxAgeMs: number): BranchKeyMaterials | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    const now = this.#now();
    // spec "cacheEntryWithinLimits": past the entry's TTL, or older than this keyring's TTL, is expired.
    if (now >= e.expiresAt || now - e.createdAt > maxAgeMs) {
      this.#drop(id, e, 'expirations');
      return undefined;
    }
    this.#entries.delete(id);
    this.#entries.set(id, e); // most recently used
    return e.materials.copy();
  }

  /**
   * The materials for `id`: a copy of the cached entry, or (single-flight) the result of `load`,
   * cached for `ttlMs` under `id` and under each of `aliases(m)` too.
   */
  getOrLoad(
    id: string,
    load: (signal: AbortSignal) => Promise<BranchKeyMaterials>,
    o: {
      ttlMs: number;
      signal?: AbortSignal | undefined;
      aliases?: ((m: BranchKeyMaterials) => string[]) | undefined;
      /** Start a background refresh on a hit this close to the entry's expiry (ms). Default 0: never. */
      refreshAheadMs?: number | undefined;
    },
  ): Promise<BranchKeyMaterials> {
    const hit = this.get(id, o.ttlMs);
    if (hit) {
      this.stats.hits++;
      const e = this.#entries.get(id)!;
      const expiresAt = Math.min(e.expiresAt, e.createdAt + o.ttlMs);
      if (o.refreshAheadMs && this.#now() >= expiresAt - o.refreshAheadMs && !this.#flights.has(id)) {
        this.stats.refreshes++;
        this.#start(id, load, o);
      }
      return Promise.resolve(hit);
    }
    this.stats.misses++;
    if (o.signal?.aborted) return Promise.reject(abortedError(o.signal));
    return new Promise<BranchKeyMaterials>((resolve, reject) => {
      const flight = this.#flights.get(id) ?? this.#start(id, load, o);
      const onAbort = (): void => {
        flight.waiters.delete(waiter);
        reject(abortedError(o.signal));
        if (flight.waiters.size === 0 && this.#flights.get(id) === flight) {
          // Nobody waits any more: stop the load, and let the next caller start afresh.
          this.#flights.delete(id);
          flight.controller.abort(new EnvelopeError('ENVELOPE_ABORTED', 'every caller left'));
        }
      };
      const waiter: Waiter = { resolve, reject, detach: () => o.signal?.removeEventListener('abort', onAbort) };
      flight.waiters.add(waiter);
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #start(
    id: string,
    load: (signal: AbortSignal) => Promise<BranchKeyMaterials>,
    o: { ttlMs: number; aliases?: ((m: BranchKeyMaterials) => string[]) | undefined },
  ): Flight {
    const flight: Flight = { waiters: new Set(), controller: new AbortController(), done: Promise.resolve() };
    this.#flights.set(id, flight);
    this.stats.loads++;
    const settle = (m: BranchKeyMaterials | undefined, e?: unknown): void => {
      if (this.#flights.get(id) === flight) this.#flights.delete(id);
      try {
        // Every waiter gets its copy in this same tick, before anything can evict the original.
        for (const w of flight.waiters) {
          w.detach();
          if (m) w.resolve(m.copy());
          else w.reject(e);
        }
        if (!m) return;
        // Aliases are replaced too: after a refresh they would otherwise expire with the old entry.
        for (const a of o.aliases?.(m).filter((x) => x !== id) ?? []) this.put(a, m.copy(), o.ttlMs);
        this.put(id, m, o.ttlMs);
      } catch (err) {
        // Not reached unless a supplier of aliases throws: no waiter may be left hanging.
        m?.zeroize();
        for (const w of flight.waiters) w.reject(err);
      } finally {
        flight.waiters.clear();
      }
    };
    flight.done = Promise.resolve()
      .then(() => load(flight.controller.signal))
      .then(
        (m) => settle(m),
        (e: unknown) => settle(undefined, e),
      );
    return flight;
  }

  /** Stores `m` under `id` for `ttlMs` (the cache now owns it), replacing and zeroizing any entry there. */
  put(id: string, m: BranchKeyMaterials, ttlMs: number): void {
    const now = this.#now();
    const old = this.#entries.get(id);
    if (old) this.#drop(id, old);
    this.#entries.set(id, { materials: m, createdAt: now, expiresAt: now + ttlMs });
    this.purgeExpired();
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.capacity) break;
      this.#drop(k, e, 'evictions');
    }
  }

  /** Zeroizes and drops every entry past its TTL. */
  purgeExpired(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (now >= e.expiresAt) this.#drop(k, e, 'expirations');
  }

  /** Zeroizes and drops the entry for `id`. */
  delete(id: string): boolean {
    const e = this.#entries.get(id);
    if (e) this.#drop(id, e);
    return e !== undefined;
  }

  /** Zeroizes and drops every entry. */
  clear(): void {
    for (const [k, e] of this.#entries) this.#drop(k, e);
  }

  #drop(id: string, e: Entry, count?: 'evictions' | 'expirations'): void {
    e.materials.zeroize();
    this.#entries.delete(id);
    if (count) this.stats[count]++;
  }
}
