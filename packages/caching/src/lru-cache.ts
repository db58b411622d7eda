/**
 * The materials cache: an in-memory LRU with a bounded entry count. Entries own their
 * materials; eviction, expiry and removal zeroize the data key.
 */
import type { DecryptionMaterials, EncryptionMaterials } from '@envelope/core';

export interface CacheEntry<M extends EncryptionMaterials | DecryptionMaterials = EncryptionMaterials | DecryptionMaterials> {
  /** The cached materials: never handed out, only copied. */
  readonly materials: M;
  /** When it was created (clock ms). */
  readonly createdAt: number;
  /** Messages encrypted with it so far. */
  messages: number;
  /** Plaintext bytes encrypted with it so far. */
  bytes: number;
}

/** A materials cache. Implementations must zeroize materials they drop. */
export interface MaterialsCache {
  get(key: string): CacheEntry | undefined;
  put(key: string, entry: CacheEntry): void;
  /** Removes and zeroizes; `reason` is for metrics. */
  delete(key: string, reason: 'expired' | 'exhausted' | 'evicted'): void;
  readonly size: number;
  /** Called with each removal, for metrics. */
  onRemove?: (reason: 'expired' | 'exhausted' | 'evicted') => void;
}

export class LruMaterialsCache implements MaterialsCache {
  readonly capacity: number;
  readonly #map = new Map<string, CacheEntry>();
  onRemove?: (reason: 'expired' | 'exhausted' | 'evicted') => void;

  constructor(options: { capacity: number }) {
    if (!Number.isInteger(options?.capacity) || options.capacity < 1) throw new RangeError('capacity: expected a positive integer');
    this.capacity = options.capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): CacheEntry | undefined {
    const e = this.#map.get(key);
    if (e) {
      // Most recently used goes last.
      this.#map.delete(key);
      this.#map.set(key, e);
    }
    return e;
  }

  put(key: string, entry: CacheEntry): void {
    const old = this.#map.get(key);
    if (old && old !== entry) {
      this.#map.delete(key);
      old.materials.zeroize();
    }
    this.#map.set(key, entry);
    while (this.#map.size > this.capacity) {
      const [oldest] = this.#map.keys();
      this.delete(oldest!, 'evicted');
    }
  }

  delete(key: string, reason: 'expired' | 'exhausted' | 'evicted'): void {
    const e = this.#map.get(key);
    if (!e) return;
    this.#map.delete(key);
    e.materials.zeroize();
    this.onRemove?.(reason);
  }

  /** Zeroizes and drops everything. */
  clear(): void {
    for (const k of [...this.#map.keys()]) this.delete(k, 'evicted');
  }
}
