/** What the caching manager reports: events per hit, miss and removal, and counters. */
import type { EncryptionContext } from '@envelope/core';
import type { RemovalReason } from './lru-cache.js';

/**
 * What the cache did, for audit streams and dashboards. Carries encryption-context **keys** only,
 * never values, never key material.
 */
export interface CacheEvent {
  /** `cache-evict` is every removal of an entry; `reason` says which. */
  readonly operation: 'cache-hit' | 'cache-miss' | 'cache-evict';
  readonly kind: 'encrypt' | 'decrypt';
  readonly partition: string;
  readonly suiteId?: number | undefined;
  /** Hit and miss: time from the request to its materials (for a miss, the underlying call included). */
  readonly latencyMs?: number | undefined;
  /** Sorted encryption-context keys of the request (for an eviction, of the request that loaded it). */
  readonly contextKeys: readonly string[];
  /** Eviction: why the entry left the cache. */
  readonly reason?: RemovalReason | undefined;
  /** Miss: true when this request joined another's underlying call instead of making one. */
  readonly coalesced?: boolean | undefined;
}

/**
 * Counters since the manager was made. Every request is exactly one of a hit, a miss or
 * bypassed. `keyringCalls` is at least misses − coalesced + bypassed + refreshes: waiters that a
 * fresh entry could not serve within the limits, and waiters of a result that must not be
 * shared (no-KDF suite), make further calls.
 */
export interface CacheMetrics {
  /** Served from an entry already in the cache. */
  hits: number;
  /** Not served from the cache (each either made an underlying call or joined one). */
  misses: number;
  /** Misses that joined a call already running (single-flight). */
  coalesced: number;
  /** Calls to the underlying manager (for a keyring-backed manager: keyring calls). */
  keyringCalls: number;
  /** Requests that are never cached (unknown length, no-KDF suite, over the byte limit). */
  bypassed: number;
  /** Background refresh-ahead calls started. */
  refreshes: number;
  /** Entries removed for capacity (LRU), replacement or `clear()`. */
  evictions: number;
  /** Entries removed at their max age. */
  expirations: number;
  /** Entries removed because a use would have passed a message or byte limit. */
  exhaustions: number;
}

/** The counters and the event sink of one manager. */
export class CacheReporter {
  readonly counts: CacheMetrics = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    keyringCalls: 0,
    bypassed: 0,
    refreshes: 0,
    evictions: 0,
    expirations: 0,
    exhaustions: 0,
  };
  readonly #partition: string;
  readonly #onEvent: ((e: CacheEvent) => void) | undefined;

  constructor(partition: string, onEvent: ((e: CacheEvent) => void) | undefined) {
    this.#partition = partition;
    this.#onEvent = onEvent;
  }

  /** True when someone listens: callers skip building events (and context key lists) otherwise. */
  get listening(): boolean {
    return this.#onEvent !== undefined;
  }

  /** Counts a removal by its reason and reports it. */
  removed(kind: 'encrypt' | 'decrypt', suiteId: number, contextKeys: readonly string[], reason: RemovalReason): void {
    if (reason === 'expired') this.counts.expirations++;
    else if (reason === 'exhausted') this.counts.exhaustions++;
    else this.counts.evictions++;
    this.emit({ operation: 'cache-evict', kind, suiteId, contextKeys, reason });
  }

  emit(e: Omit<CacheEvent, 'partition'>): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent({ ...e, partition: this.#partition });
    } catch {
      // An audit sink must not break encryption.
    }
  }
}

/** The sorted keys of a context, for events (never the values). */
export function keysOf(ec: EncryptionContext): string[] {
  return Object.keys(ec).sort();
}
