/**
 * The materials cache
 * (spec: framework/cryptographic-materials-cache.md#cryptographic-materials-cache-interface)
 * (spec: framework/local-cryptographic-materials-cache.md#local-cryptographic-materials-cache): an
 * in-memory LRU with a bounded entry count. The cache owns the materials it stores: every way out
 * of it (LRU eviction, expiry, exhaustion, replacement, clear) zeroizes the data key first.
 */
import type { DecryptionMaterials, EncryptionMaterials } from '@envelope/core';

/** Why an entry left the cache. */
export type RemovalReason =
  /** Least recently used, pushed out by capacity. */
  | 'evicted'
  /** Older than its max age (TTL). */
  | 'expired'
  /** A use would have passed its message or byte limit. */
  | 'exhausted'
  /** A newer entry was put under the same id (e.g. refresh-ahead). */
  | 'replaced'
  /** {@link LruMaterialsCache.clear}. */
  | 'cleared';

/**
 * One cached set of materials with its usage
 * (spec: framework/cryptographic-materials-cache.md#cache-entry). The caching manager creates
 * entries; caches store them as they are.
 */
export interface CacheEntry {
  /** The cached materials. Never handed out: callers get copies. */
  readonly materials: EncryptionMaterials | DecryptionMaterials;
  /** When it was created, in the owning manager's clock (ms). */
  readonly createdAt: number;
  /** When it stops being usable (TTL), same clock: a cache never returns it at or after this. */
  readonly expiresAt: number;
  /** Messages encrypted with it so far. */
  messages: number;
  /** Plaintext bytes encrypted with it so far. */
  bytes: number;
  /** Called once when the cache drops the entry, after it zeroized the materials. */
  readonly onRemove?: ((reason: RemovalReason) => void) | undefined;
}

/**
 * A materials cache. Implementations must zeroize the materials of every entry they drop and
 * call its `onRemove`, must never return an entry at or after its `expiresAt`, and must keep
 * `get`, `put` and `delete` synchronous (the manager counts a use in the same tick it looks it
 * up; that is what makes the limits atomic).
 */
export interface MaterialsCache {
  /** The entry for `id` if there is one that has not expired at `now` (an expired one is removed). */
  get(id: string, now: number): CacheEntry | undefined;
  /** Stores `entry` under `id`, replacing (and zeroizing) any other entry there. */
  put(id: string, entry: CacheEntry): void;
  /**
   * Removes and zeroizes the entry for `id` (only if it is `expected`, when given). Returns
   * whether something was removed. Removing nothing is not an error.
   */
  delete(id: string, reason: RemovalReason, expected?: CacheEntry): boolean;
  /** Entries held now. */
  readonly size: number;
}

export interface LruMaterialsCacheOptions {
  /** Most entries held at once (0 caches nothing). */
  capacity: number;
  /**
   * How many least recently used entries each `get` checks for expiry and removes
   * (spec: framework/local-cryptographic-materials-cache.md#entry-pruning-tail-size). Default 4.
   */
  pruneTailSize?: number;
}

/**
 * In-memory LRU materials cache with a bounded entry count.
 *
 * @example
 * ```ts
 * const cache = new LruMaterialsCache({ capacity: 1000 });
 * const a = new CachingMaterialsManager({ underlying: keyring, cache, maxAgeMs: 60_000, partition: 'a' });
 * const b = new CachingMaterialsManager({ underlying: keyring, cache, maxAgeMs: 60_000, partition: 'b' });
 * // a and b share the memory bound, never each other's data keys.
 * ```
 */
export class LruMaterialsCache implements MaterialsCache {
  readonly capacity: number;
  readonly pruneTailSize: number;
  /** Map iteration order is insertion order: least recently used first. */
  readonly #map = new Map<string, CacheEntry>();

  constructor(options: LruMaterialsCacheOptions) {
    const capacity = options?.capacity;
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('capacity: expected a non-negative integer');
    const tail = options.pruneTailSize ?? 4;
    if (!Number.isSafeInteger(tail) || tail < 0) throw new RangeError('pruneTailSize: expected a non-negative integer');
    this.capacity = capacity;
    this.pruneTailSize = tail;
  }

  get size(): number {
    return this.#map.size;
  }

  get(id: string, now: number): CacheEntry | undefined {
    this.#pruneTail(now);
    const e = this.#map.get(id);
    if (e === undefined) return undefined;
    if (now >= e.expiresAt || e.materials.zeroized) {
      // Zeroized behind the cache's back (a bug elsewhere): drop it all the same.
      this.#remove(id, e, e.materials.zeroized ? 'evicted' : 'expired');
      return undefined;
    }
    // Most recently used goes last.
    this.#map.delete(id);
    this.#map.set(id, e);
    return e;
  }

  put(id: string, entry: CacheEntry): void {
    const old = this.#map.get(id);
    if (old === entry) return;
    if (old !== undefined) this.#remove(id, old, 'replaced');
    this.#map.set(id, entry);
    // Spec: never more than capacity once put returns.
    while (this.#map.size > this.capacity) {
      const [oldestId, oldest] = this.#map.entries().next().value as [string, CacheEntry];
      this.#remove(oldestId, oldest, 'evicted');
    }
  }

  delete(id: string, reason: RemovalReason, expected?: CacheEntry): boolean {
    const e = this.#map.get(id);
    if (e === undefined || (expected !== undefined && e !== expected)) return false;
    this.#remove(id, e, reason);
    return true;
  }

  /** Removes (and zeroizes) every entry expired at `now`; returns how many. */
  prune(now: number): number {
    let n = 0;
    for (const [id, e] of [...this.#map]) {
      if (now >= e.expiresAt) {
        this.#remove(id, e, 'expired');
        n++;
      }
    }
    return n;
  }

  /** Zeroizes and drops everything. */
  clear(): void {
    for (const [id, e] of [...this.#map]) this.#remove(id, e, 'cleared');
  }

  #pruneTail(now: number): void {
    let checked = 0;
    for (const [id, e] of this.#map) {
      if (checked++ >= this.pruneTailSize) break;
      // Deleting the current key while iterating a Map is safe.
      if (now >= e.expiresAt) this.#remove(id, e, 'expired');
    }
  }

  #remove(id: string, e: CacheEntry, reason: RemovalReason): void {
    this.#map.delete(id);
    e.materials.zeroize();
    try {
      e.onRemove?.(reason);
    } catch {
      // A metrics hook must not stop the cache from dropping keys.
    }
  }
}
