/** The caching manager's options and their validation at the edge. */
import { DefaultMaterialsManager, invalidArgument, type Keyring, type MaterialsManager } from '@envelope/core';
import { randomUUID } from 'node:crypto';
import { LruMaterialsCache, type MaterialsCache } from './lru-cache.js';
import type { CacheEvent } from './events.js';

/** 2^32 when not set (spec: framework/caching-cmm.md#limit-messages). */
const DEFAULT_MAX_MESSAGES = 2 ** 32;

export interface CachingMaterialsManagerOptions {
  /** Asked on a miss. A keyring is wrapped in a {@link DefaultMaterialsManager}. */
  underlying: MaterialsManager | Keyring;
  /** Where entries live; may be shared by several managers. Default: a private LRU of 1,000 entries. */
  cache?: MaterialsCache | undefined;
  /** Required: how long (ms) a data key may be used after it was obtained. */
  maxAgeMs: number;
  /** Messages one data key may encrypt. Default 2^32 (spec: framework/caching-cmm.md#limit-messages). */
  maxMessagesEncrypted?: number | undefined;
  /** Plaintext bytes one data key may encrypt. Default 2^53−1. */
  maxBytesEncrypted?: number | undefined;
  /**
   * Managers share entries only when their partitions are equal. Default: a random id per manager,
   * so by default two managers never share data keys (spec: framework/caching-cmm.md#partition-id).
   */
  partition?: string | undefined;
  /**
   * Milliseconds, monotonic (default `performance.now`). With a custom clock the manager sets no
   * expiry timers: expired entries are zeroized on the next access (or `LruMaterialsCache.prune`).
   */
  clock?: (() => number) | undefined;
  /**
   * Refresh-ahead: a hit on an entry with less than this many ms of its max age left starts one
   * background call for a fresh data key; the old entry serves until the new one replaces it.
   * Must be less than `maxAgeMs`. Off by default.
   */
  refreshAheadMs?: number | undefined;
  /** Receives a {@link CacheEvent} per hit, miss and removal. Must not throw (errors are ignored). */
  onEvent?: ((event: CacheEvent) => void) | undefined;
}

/** How much one data key may encrypt (spec: framework/caching-cmm.md#limit-messages) (spec: framework/caching-cmm.md#limit-bytes). */
export interface UseLimits {
  readonly maxMessagesEncrypted: number;
  readonly maxBytesEncrypted: number;
}

/** The options, checked and defaulted. */
export interface CachingSettings extends UseLimits {
  readonly underlying: MaterialsManager;
  readonly cache: MaterialsCache;
  readonly maxAgeMs: number;
  readonly partition: string;
  readonly clock: () => number;
  /** Expiry timers only run on the real clock; a custom clock would not match them. */
  readonly timers: boolean;
  readonly refreshAheadMs: number | undefined;
  readonly onEvent: ((event: CacheEvent) => void) | undefined;
}

export function checkCachingOptions(options: CachingMaterialsManagerOptions): CachingSettings {
  const o = options ?? ({} as CachingMaterialsManagerOptions);
  const u = o.underlying as Partial<MaterialsManager & Keyring> | undefined;
  let underlying: MaterialsManager;
  if (u === undefined || u === null || typeof u !== 'object')
    throw invalidArgument('underlying', 'expected a MaterialsManager or a Keyring');
  if (typeof u.getEncryptionMaterials === 'function' && typeof u.decryptMaterials === 'function') underlying = u as MaterialsManager;
  else if (typeof u.onEncrypt === 'function' && typeof u.onDecrypt === 'function') underlying = new DefaultMaterialsManager(u as Keyring);
  else throw invalidArgument('underlying', 'expected a MaterialsManager or a Keyring');
  if (typeof o.maxAgeMs !== 'number' || !Number.isFinite(o.maxAgeMs) || o.maxAgeMs <= 0) {
    throw invalidArgument('maxAgeMs', 'required, a positive number of milliseconds');
  }
  if (o.refreshAheadMs !== undefined && !(Number.isFinite(o.refreshAheadMs) && o.refreshAheadMs > 0 && o.refreshAheadMs < o.maxAgeMs)) {
    throw invalidArgument('refreshAheadMs', 'expected a positive number of milliseconds below maxAgeMs');
  }
  if (o.partition !== undefined && (typeof o.partition !== 'string' || o.partition.length === 0))
    throw invalidArgument('partition', 'expected a non-empty string');
  if (o.clock !== undefined && typeof o.clock !== 'function') throw invalidArgument('clock', 'expected a function returning milliseconds');
  if (o.onEvent !== undefined && typeof o.onEvent !== 'function') throw invalidArgument('onEvent', 'expected a function');
  return {
    underlying,
    cache: o.cache ?? new LruMaterialsCache({ capacity: 1000 }),
    maxAgeMs: o.maxAgeMs,
    maxMessagesEncrypted: positiveInteger(o.maxMessagesEncrypted, 'maxMessagesEncrypted', DEFAULT_MAX_MESSAGES),
    maxBytesEncrypted: positiveInteger(o.maxBytesEncrypted, 'maxBytesEncrypted', Number.MAX_SAFE_INTEGER),
    partition: o.partition ?? randomUUID(),
    clock: o.clock ?? (() => performance.now()),
    timers: o.clock === undefined,
    refreshAheadMs: o.refreshAheadMs,
    onEvent: o.onEvent,
  };
}

function positiveInteger(v: number | undefined, param: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw invalidArgument(param, 'expected a positive integer');
  return v;
}
