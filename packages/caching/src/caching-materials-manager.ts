/**
 * The caching materials manager
 * (spec: framework/caching-cmm.md#caching-cryptographic-materials-manager): reuses data keys within
 * limits, so a KMS key is asked for one data key per many messages instead of one per message.
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
  throwIfAborted,
  type DecryptionMaterials,
  type DecryptionMaterialsRequest,
  type EncryptionContext,
  type EncryptionMaterials,
  type EncryptionMaterialsRequest,
  type MaterialsManager,
} from '@envelope/core';
import { decryptCacheKey, encryptCacheKey } from './cache-key.js';
import type { CacheEntry, MaterialsCache, RemovalReason } from './lru-cache.js';
import { RETRY, SingleFlight } from './single-flight.js';
import { checkCachingOptions, type CachingMaterialsManagerOptions, type CachingSettings } from './options.js';
import { CacheReporter, keysOf, type CacheMetrics } from './events.js';
import { Entry, isKind, takeUse, usedUp, type Kind, type Load, type Loaded, type Materials } from './entry.js';

export type { CachingMaterialsManagerOptions } from './options.js';
export type { CacheEvent, CacheMetrics } from './events.js';

/** One request for materials, as the flight that serves it needs to know it. */
interface Caller {
  readonly kind: Kind;
  readonly ec: EncryptionContext;
  /** Encrypt: the plaintext length counted against the byte limit; decrypt: 0. */
  readonly bytes: number;
  readonly load: Load;
  readonly signal: AbortSignal | undefined;
  /** When the request arrived (the manager's clock), for latency. */
  readonly t0: number;
  /** It joined a call already running. */
  readonly coalesced: boolean;
}

/**
 * A materials manager that caches its underlying manager's materials
 * (spec: framework/caching-cmm.md#caching-cryptographic-materials-manager).
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
  readonly #s: CachingSettings;
  readonly #report: CacheReporter;
  readonly #flights: SingleFlight<Loaded>;
  readonly #removed: (e: Entry, reason: RemovalReason) => void;

  constructor(options: CachingMaterialsManagerOptions) {
    const s = checkCachingOptions(options);
    this.#s = s;
    this.underlying = s.underlying;
    this.cache = s.cache;
    this.partition = s.partition;
    this.maxAgeMs = s.maxAgeMs;
    this.maxMessagesEncrypted = s.maxMessagesEncrypted;
    this.maxBytesEncrypted = s.maxBytesEncrypted;
    this.refreshAheadMs = s.refreshAheadMs;
    this.#report = new CacheReporter(s.partition, s.onEvent);
    this.#flights = new SingleFlight<Loaded>((id, loaded) => this.#settled(id, loaded));
    this.#removed = (e, reason) => {
      if (e.timer !== undefined) clearTimeout(e.timer);
      this.#report.removed(e.kind, e.materials.suite.id, e.contextKeys, reason);
    };
  }

  /** A snapshot of the counters. */
  metrics(): CacheMetrics {
    return { ...this.#report.counts };
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
    this.#report.counts.bypassed++;
    this.#report.counts.keyringCalls++;
    return call();
  }

  #acquire(id: string, kind: Kind, ec: EncryptionContext, bytes: number, load: Load, signal: AbortSignal | undefined): Promise<Materials> {
    const clock = this.#s.clock;
    const t0 = clock();
    const e = this.cache.get(id, t0);
    if (e !== undefined) {
      const copy = this.#use(id, e, kind, bytes, t0);
      if (copy !== undefined) {
        this.#report.counts.hits++;
        if (this.#report.listening)
          this.#report.emit({ operation: 'cache-hit', kind, suiteId: copy.suite.id, latencyMs: clock() - t0, contextKeys: keysOf(ec) });
        if (this.refreshAheadMs !== undefined && e instanceof Entry) this.#maybeRefresh(id, e, t0, kind, ec, load);
        return Promise.resolve(copy);
      }
    }
    this.#report.counts.misses++;
    const coalesced = this.#flights.has(id);
    if (coalesced) this.#report.counts.coalesced++;
    const caller: Caller = { kind, ec, bytes, load, signal, t0, coalesced };
    return this.#flights.join<Materials>(id, {
      signal,
      load: (s) => this.#load(kind, ec, load, s),
      serve: (loaded) => this.#serve(loaded, caller),
    });
  }

  /** Takes one use of a cached entry if it is still within every limit; else removes it. */
  #use(id: string, e: CacheEntry, kind: Kind, bytes: number, now: number): Materials | undefined {
    if (!isKind(e.materials, kind)) return undefined;
    // The entry may come from another manager of this partition with a longer max age.
    if (now - e.createdAt >= this.maxAgeMs) {
      this.cache.delete(id, 'expired', e);
      return undefined;
    }
    const copy = takeUse(e, kind, bytes, this.#s);
    if (copy === undefined) {
      this.cache.delete(id, 'exhausted', e);
      return undefined;
    }
    // The last message it may encrypt: zeroize now rather than when somebody next asks.
    if (usedUp(e, kind, this.#s)) this.cache.delete(id, 'exhausted', e);
    return copy;
  }

  async #load(kind: Kind, ec: EncryptionContext, load: Load, signal: AbortSignal | undefined): Promise<Loaded> {
    this.#report.counts.keyringCalls++;
    const m = await load(signal);
    if (!isKind(m, kind) || m.suite.kdfHash === undefined || !m.hasDataKey) {
      // The underlying manager picked a no-KDF suite (or returned something odd): not shareable.
      return { materials: m, entry: undefined, store: false, given: false, retired: false };
    }
    const now = this.#s.clock();
    const entry = new Entry(m, now, now + this.maxAgeMs, kind, this.#report.listening ? keysOf(ec) : [], this.#removed);
    const store = kind === 'decrypt' || (m as EncryptionMaterials).warnings.length === 0;
    return { materials: m, entry, store, given: false, retired: false };
  }

  /** Serves one caller of a flight (synchronously, in arrival order). */
  #serve(l: Loaded, c: Caller): Materials | Promise<Materials> | typeof RETRY {
    let out: Materials;
    const e = l.entry;
    if (e === undefined) {
      if (l.given) {
        // One data key per message for no-KDF suites: every other waiter makes its own call.
        this.#report.counts.keyringCalls++;
        return c.load(c.signal);
      }
      l.given = true;
      out = l.materials;
    } else {
      const copy = l.retired ? undefined : takeUse(e, c.kind, c.bytes, this.#s);
      if (copy === undefined) {
        l.retired = true;
        return RETRY;
      }
      out = copy;
    }
    if (this.#report.listening) {
      this.#report.emit({
        operation: 'cache-miss',
        kind: c.kind,
        suiteId: out.suite.id,
        latencyMs: this.#s.clock() - c.t0,
        contextKeys: keysOf(c.ec),
        coalesced: c.coalesced,
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
    if (!l.store || l.retired || usedUp(e, e.kind, this.#s)) {
      e.materials.zeroize();
      return;
    }
    if (this.#s.timers) {
      // Zeroize at max age even if nobody asks again
      // (spec: framework/cryptographic-materials-cache.md#background-processing)
      //. Unref'd: a cache never keeps the process alive.
      const cache = this.cache;
      e.timer = setTimeout(() => cache.delete(id, 'expired', e), Math.max(0, e.expiresAt - this.#s.clock()));
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
    if (this.#flights.start(id, () => this.#load(kind, ec, load, undefined))) this.#report.counts.refreshes++;
  }
}
