/**
 * The caching materials manager (spec: framework/caching-cmm.md): reuses data keys within limits,
 * so a KMS key is asked for one data key per many messages instead of one per message.
 *
 * - Limits per entry: max age (required), max messages and max bytes (encrypt). A data key is
 *   never used past any of them: each use is checked and counted in the same synchronous step
 *   that hands out its copy, and a use that would pass a limit removes the entry and misses.
 * - Partitions: managers with different partitions never share entries, even on one cache.
 * - Single-flight: concurrent misses for one cache id make one call to the underlying manager;
 *   the others wait, share its error if it fails (nothing is cached then), and each takes (and
 *   counts) its own use of the fresh entry. Callers the fresh entry cannot serve within the
 *   limits go on to one new call together (see {@link SingleFlight}).
 * - Never cached: encrypts of unknown length or larger than `maxBytesEncrypted`; suites without a
 *   key derivation function (0x0014/0x0046/0x0078), whose data key *is* the message key;
 *   encryption materials that carry warnings (a degraded multi-region encrypt serves the callers
 *   waiting for it, but is not kept).
 * - Hits get copies; every entry that leaves the cache is zeroized.
 */
import {
  DecryptionMaterials,
  DefaultMaterialsManager,
  EncryptionMaterials,
  EnvelopeError,
  throwIfAborted,
  type DecryptionMaterialsRequest,
  type EncryptionContext,
  type EncryptionMaterialsRequest,
  type Keyring,
  type MaterialsManager,
} from '@envelope/core';
import { randomUUID } from 'node:crypto';
import { decryptCacheKey, encryptCacheKey } from './cache-key.js';
import { copyDecryptionMaterials, copyEncryptionMaterials } from './copy.js';
import { LruMaterialsCache, type CacheEntry, type MaterialsCache, type RemovalReason } from './lru-cache.js';
import { RETRY, SingleFlight } from './single-flight.js';

/** Spec (caching-cmm.md, "Limit Messages"): 2^32 when not set. */
const DEFAULT_MAX_MESSAGES = 2 ** 32;

export interface CachingMaterialsManagerOptions {
  /** Asked on a miss. A keyring is wrapped in a {@link DefaultMaterialsManager}. */
  underlying: MaterialsManager | Keyring;
  /** Where entries live; may be shared by several managers. Default: a private LRU of 1,000 entries. */
  cache?: MaterialsCache | undefined;
  /** Required: how long (ms) a data key may be used after it was obtained. */
  maxAgeMs: number;
  /** Messages one data key may encrypt. Default 2^32 (spec). */
  maxMessagesEncrypted?: number | undefined;
  /** Plaintext bytes one data key may encrypt. Default 2^53−1. */
  maxBytesEncrypted?: number | undefined;
  /**
   * Managers share entries only when their partitions are equal. Default: a random id per
   * manager, so by default two managers never share data keys (spec: "Partition ID").
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

type Kind = 'encrypt' | 'decrypt';
type Materials = EncryptionMaterials | DecryptionMaterials;
type Load = (signal: AbortSignal | undefined) => Promise<Materials>;

/** A cache entry made by this module: the public fields plus the manager's bookkeeping. */
class Entry implements CacheEntry {
  messages = 0;
  bytes = 0;
  /** Refresh-ahead started (or tried) for this entry. */
  refreshing = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly onRemove: (reason: RemovalReason) => void;

  constructor(
    readonly materials: Materials,
    readonly createdAt: number,
    readonly expiresAt: number,
    readonly kind: Kind,
    readonly contextKeys: readonly string[],
    removed: (e: Entry, reason: RemovalReason) => void,
  ) {
    this.onRemove = (reason) => removed(this, reason);
  }
}

/** The outcome of one underlying call, shared by the callers of its flight. */
interface Loaded {
  readonly materials: Materials;
  /** Undefined when the data key must not be shared (no KDF): one caller gets the original. */
  readonly entry: Entry | undefined;
  /** False: serve this flight's callers, then zeroize instead of caching (materials with warnings). */
  readonly store: boolean;
  /** The uncacheable original was handed to a caller. */
  given: boolean;
  /** A caller did not fit within the limits: the entry is used up. */
  retired: boolean;
}

/**
 * A materials manager that caches its underlying manager's materials (spec:
 * framework/caching-cmm.md).
 *
 * @example
 * ```ts
 * import { encrypt } from '@envelope/core';
 * import { CachingMaterialsManager, LruMaterialsCache } from '@envelope/caching';
 *
 * const cmm = new CachingMaterialsManager({
 *   underlying: kmsKeyring,
 *   cache: new LruMaterialsCache({ capacity: 1000 }),
 *   maxAgeMs: 5 * 60_000,
 *   maxMessagesEncrypted: 10_000,
 *   maxBytesEncrypted: 2 ** 30,
 *   partition: 'orders',
 * });
 * const { ciphertext } = await encrypt(data, { materialsManager: cmm, encryptionContext: { tenant: 't1' } });
 * cmm.metrics(); // { hits, misses, keyringCalls, ... }
 * ```
 */
export class CachingMaterialsManager implements MaterialsManager {
  readonly underlying: MaterialsManager;
  readonly cache: MaterialsCache;
  readonly partition: string;
  readonly maxAgeMs: number;
  readonly maxMessagesEncrypted: number;
  readonly maxBytesEncrypted: number;
  readonly refreshAheadMs: number | undefined;
  readonly #clock: () => number;
  /** Expiry timers only run on the real clock; a custom clock would not match them. */
  readonly #timers: boolean;
  readonly #onEvent: ((e: CacheEvent) => void) | undefined;
  readonly #flights: SingleFlight<Loaded>;
  readonly #removed: (e: Entry, reason: RemovalReason) => void;
  readonly #m: CacheMetrics = {
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

  constructor(options: CachingMaterialsManagerOptions) {
    const o = options ?? ({} as CachingMaterialsManagerOptions);
    const u = o.underlying as Partial<MaterialsManager & Keyring> | undefined;
    if (u === undefined || u === null || typeof u !== 'object') throw invalid('underlying', 'expected a MaterialsManager or a Keyring');
    if (typeof u.getEncryptionMaterials === 'function' && typeof u.decryptMaterials === 'function') this.underlying = u as MaterialsManager;
    else if (typeof u.onEncrypt === 'function' && typeof u.onDecrypt === 'function')
      this.underlying = new DefaultMaterialsManager(u as Keyring);
    else throw invalid('underlying', 'expected a MaterialsManager or a Keyring');
    if (typeof o.maxAgeMs !== 'number' || !Number.isFinite(o.maxAgeMs) || o.maxAgeMs <= 0) {
      throw invalid('maxAgeMs', 'required, a positive number of milliseconds');
    }
    this.maxAgeMs = o.maxAgeMs;
    this.maxMessagesEncrypted = positiveInteger(o.maxMessagesEncrypted, 'maxMessagesEncrypted', DEFAULT_MAX_MESSAGES);
    this.maxBytesEncrypted = positiveInteger(o.maxBytesEncrypted, 'maxBytesEncrypted', Number.MAX_SAFE_INTEGER);
    if (o.refreshAheadMs !== undefined && !(Number.isFinite(o.refreshAheadMs) && o.refreshAheadMs > 0 && o.refreshAheadMs < o.maxAgeMs)) {
      throw invalid('refreshAheadMs', 'expected a positive number of milliseconds below maxAgeMs');
    }
    this.refreshAheadMs = o.refreshAheadMs;
    if (o.partition !== undefined && (typeof o.partition !== 'string' || o.partition.length === 0))
      throw invalid('partition', 'expected a non-empty string');
    this.partition = o.partition ?? randomUUID();
    if (o.clock !== undefined && typeof o.clock !== 'function') throw invalid('clock', 'expected a function returning milliseconds');
    this.#clock = o.clock ?? (() => performance.now());
    this.#timers = o.clock === undefined;
    this.cache = o.cache ?? new LruMaterialsCache({ capacity: 1000 });
    this.#onEvent = o.onEvent;
    this.#flights = new SingleFlight<Loaded>((id, loaded) => this.#settled(id, loaded));
    this.#removed = (e, reason) => this.#onRemoved(e, reason);
  }

  /** A snapshot of the counters. */
  metrics(): CacheMetrics {
    return { ...this.#m };
  }

  async getEncryptionMaterials(request: EncryptionMaterialsRequest): Promise<EncryptionMaterials> {
    throwIfAborted(request.signal);
    const bytes = request.plaintextLength;
    // Spec: suites with an identity KDF go straight to the underlying manager, never cached.
    // Unknown lengths cannot be counted against maxBytesEncrypted; over-limit ones never fit.
    if (
      bytes === undefined ||
      !Number.isSafeInteger(bytes) ||
      bytes < 0 ||
      bytes > this.maxBytesEncrypted ||
      (request.suite !== undefined && request.suite.kdfHash === undefined)
    ) {
      return this.#bypass(() => this.underlying.getEncryptionMaterials(request));
    }
    let id: string;
    try {
      id = encryptCacheKey(this.partition, request);
    } catch {
      return this.#bypass(() => this.underlying.getEncryptionMaterials(request));
    }
    const load: Load = (signal) => this.underlying.getEncryptionMaterials({ ...request, signal });
    return this.#acquire(id, 'encrypt', request.encryptionContext, bytes, load, request.signal) as Promise<EncryptionMaterials>;
  }

  async decryptMaterials(request: DecryptionMaterialsRequest): Promise<DecryptionMaterials> {
    throwIfAborted(request.signal);
    if (request.suite.kdfHash === undefined) return this.#bypass(() => this.underlying.decryptMaterials(request));
    let id: string;
    try {
      id = decryptCacheKey(this.partition, request);
    } catch {
      return this.#bypass(() => this.underlying.decryptMaterials(request));
    }
    const load: Load = (signal) => this.underlying.decryptMaterials({ ...request, signal });
    return this.#acquire(id, 'decrypt', request.encryptionContext, 0, load, request.signal) as Promise<DecryptionMaterials>;
  }

  #bypass<M>(call: () => Promise<M>): Promise<M> {
    this.#m.bypassed++;
    this.#m.keyringCalls++;
    return call();
  }

  #acquire(id: string, kind: Kind, ec: EncryptionContext, bytes: number, load: Load, signal: AbortSignal | undefined): Promise<Materials> {
    const t0 = this.#clock();
    const e = this.cache.get(id, t0);
    if (e !== undefined) {
      const copy = this.#use(id, e, kind, bytes, t0);
      if (copy !== undefined) {
        this.#m.hits++;
        if (this.#onEvent)
          this.#event({ operation: 'cache-hit', kind, suiteId: copy.suite.id, latencyMs: this.#clock() - t0, contextKeys: keysOf(ec) });
        if (this.refreshAheadMs !== undefined && e instanceof Entry) this.#maybeRefresh(id, e, t0, kind, ec, load);
        return Promise.resolve(copy);
      }
    }
    this.#m.misses++;
    const coalesced = this.#flights.has(id);
    if (coalesced) this.#m.coalesced++;
    return this.#flights.join<Materials>(id, {
      signal,
      load: (s) => this.#load(kind, ec, load, s),
      serve: (loaded) => this.#serve(loaded, kind, ec, bytes, load, signal, t0, coalesced),
    });
  }

  /** Takes one use of a cached entry if it is still within every limit; else removes it. */
  #use(id: string, e: CacheEntry, kind: Kind, bytes: number, now: number): Materials | undefined {
    const m = e.materials;
    if (!(kind === 'encrypt' ? m instanceof EncryptionMaterials : m instanceof DecryptionMaterials)) return undefined;
    // The entry may come from another manager of this partition with a longer max age.
    if (now - e.createdAt >= this.maxAgeMs) {
      this.cache.delete(id, 'expired', e);
      return undefined;
    }
    if (kind === 'decrypt') return copyDecryptionMaterials(m as DecryptionMaterials);
    if (e.messages + 1 > this.maxMessagesEncrypted || e.bytes + bytes > this.maxBytesEncrypted) {
      this.cache.delete(id, 'exhausted', e);
      return undefined;
    }
    e.messages += 1;
    e.bytes += bytes;
    const copy = copyEncryptionMaterials(m as EncryptionMaterials);
    // The last message it may encrypt: zeroize now rather than when somebody next asks.
    if (e.messages >= this.maxMessagesEncrypted) this.cache.delete(id, 'exhausted', e);
    return copy;
  }

  async #load(kind: Kind, ec: EncryptionContext, load: Load, signal: AbortSignal | undefined): Promise<Loaded> {
    this.#m.keyringCalls++;
    const m = await load(signal);
    const ok = kind === 'encrypt' ? m instanceof EncryptionMaterials : m instanceof DecryptionMaterials;
    if (!ok || m.suite.kdfHash === undefined || !m.hasDataKey) {
      // The underlying manager picked a no-KDF suite (or returned something odd): not shareable.
      return { materials: m, entry: undefined, store: false, given: false, retired: false };
    }
    const now = this.#clock();
    const entry = new Entry(m, now, now + this.maxAgeMs, kind, this.#onEvent ? keysOf(ec) : [], this.#removed);
    const store = kind === 'decrypt' || (m as EncryptionMaterials).warnings.length === 0;
    return { materials: m, entry, store, given: false, retired: false };
  }

  /** Serves one caller of a flight (synchronously, in arrival order). */
  #serve(
    l: Loaded,
    kind: Kind,
    ec: EncryptionContext,
    bytes: number,
    load: Load,
    signal: AbortSignal | undefined,
    t0: number,
    coalesced: boolean,
  ): Materials | Promise<Materials> | typeof RETRY {
    let out: Materials;
    const e = l.entry;
    if (e === undefined) {
      if (l.given) {
        // One data key per message for no-KDF suites: every other waiter makes its own call.
        this.#m.keyringCalls++;
        return load(signal);
      }
      l.given = true;
      out = l.materials;
    } else if (kind === 'decrypt') {
      out = copyDecryptionMaterials(e.materials as DecryptionMaterials);
    } else {
      if (l.retired || e.messages + 1 > this.maxMessagesEncrypted || e.bytes + bytes > this.maxBytesEncrypted) {
        l.retired = true;
        return RETRY;
      }
      e.messages += 1;
      e.bytes += bytes;
      out = copyEncryptionMaterials(e.materials as EncryptionMaterials);
    }
    if (this.#onEvent) {
      this.#event({
        operation: 'cache-miss',
        kind,
        suiteId: out.suite.id,
        latencyMs: this.#clock() - t0,
        contextKeys: keysOf(ec),
        coalesced,
      });
    }
    return out;
  }

  /** After a flight served its callers: keep the entry, or zeroize what nobody may use. */
  #settled(id: string, l: Loaded): void {
    const e = l.entry;
    if (e === undefined) {
      if (!l.given) l.materials.zeroize();
      return;
    }
    if (!l.store || l.retired || (e.kind === 'encrypt' && e.messages >= this.maxMessagesEncrypted)) {
      e.materials.zeroize();
      return;
    }
    if (this.#timers) {
      // Zeroize at max age even if nobody asks again (spec: cryptographic-materials-cache.md,
      // "Background Processing"). Unref'd: a cache never keeps the process alive.
      const cache = this.cache;
      e.timer = setTimeout(() => cache.delete(id, 'expired', e), Math.max(0, e.expiresAt - this.#clock()));
      e.timer.unref?.();
    }
    try {
      this.cache.put(id, e);
    } catch {
      // A custom cache that cannot store it: the key must not outlive this call.
      if (e.timer !== undefined) clearTimeout(e.timer);
      e.materials.zeroize();
    }
  }

  /** Refresh-ahead: one background call per entry once it is within refreshAheadMs of its max age. */
  #maybeRefresh(id: string, e: Entry, now: number, kind: Kind, ec: EncryptionContext, load: Load): void {
    const refreshAt = Math.min(e.expiresAt, e.createdAt + this.maxAgeMs) - this.refreshAheadMs!;
    // A zeroized entry has just served its last message: the next request loads as usual.
    if (e.refreshing || now < refreshAt || e.materials.zeroized) return;
    // Set even if the call fails: a failing underlying manager is not retried on every hit; the
    // entry serves until it expires and the next request misses as usual.
    e.refreshing = true;
    if (this.#flights.start(id, () => this.#load(kind, ec, load, undefined))) this.#m.refreshes++;
  }

  #onRemoved(e: Entry, reason: RemovalReason): void {
    if (e.timer !== undefined) clearTimeout(e.timer);
    if (reason === 'expired') this.#m.expirations++;
    else if (reason === 'exhausted') this.#m.exhaustions++;
    else this.#m.evictions++;
    if (this.#onEvent)
      this.#event({ operation: 'cache-evict', kind: e.kind, suiteId: e.materials.suite.id, contextKeys: e.contextKeys, reason });
  }

  #event(e: Omit<CacheEvent, 'partition'>): void {
    try {
      this.#onEvent?.({ ...e, partition: this.partition });
    } catch {
      // An audit sink must not break encryption.
    }
  }
}

function keysOf(ec: EncryptionContext): string[] {
  return Object.keys(ec).sort();
}

function invalid(param: string, problem: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${param}: ${problem}`);
}

function positiveInteger(v: number | undefined, param: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw invalid(param, 'expected a positive integer');
  return v;
}
