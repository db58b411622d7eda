/**
 * CachingMaterialsManager (spec: framework/caching-cmm.md, in spirit): reuses data keys within
 * limits, so KMS is called once per many messages.
 *
 * - Limits per entry: max age (required), max messages, max bytes; a data key is never used past
 *   any of them (each use is counted when it is taken).
 * - Partitions: managers with different partitions never share entries, even on one cache.
 * - Single-flight: concurrent misses for one cache id make one call to the underlying manager;
 *   the others wait and share its outcome (its error too; nothing is cached on failure).
 * - Never cached: encrypts of unknown length (streams without a bound) and suites without a key
 *   derivation function (0x0014/0x0046/0x0078), whose data key is the message key.
 * - Hits get copies; evicted and expired entries are zeroized.
 */
import {
  DefaultMaterialsManager,
  EnvelopeError,
  type DecryptionMaterials,
  type DecryptionMaterialsRequest,
  type EncryptionMaterials,
  type EncryptionMaterialsRequest,
  type Keyring,
  type MaterialsManager,
} from '@envelope/core';
import { randomUUID } from 'node:crypto';
import { decryptCacheKey, encryptCacheKey } from './cache-key.js';
import { copyDecryptionMaterials, copyEncryptionMaterials } from './copy.js';
import { LruMaterialsCache, type CacheEntry, type MaterialsCache } from './lru-cache.js';

export interface CachingMaterialsManagerOptions {
  underlying: MaterialsManager | Keyring;
  /** Default: an LRU of 1000 entries, private to this manager. */
  cache?: MaterialsCache;
  /** Required: how long a data key may be used. */
  maxAgeMs: number;
  /** Messages per data key (encrypt). Default 2^32. */
  maxMessagesEncrypted?: number;
  /** Plaintext bytes per data key (encrypt). Default 2^63-ish (Number.MAX_SAFE_INTEGER). */
  maxBytesEncrypted?: number;
  /** Entries of managers with different partitions never mix. Default: a random id per manager. */
  partition?: string;
  clock?: () => number;
  onEvent?: (e: CacheEvent) => void;
}

export interface CacheEvent {
  readonly operation: 'cache-hit' | 'cache-miss' | 'cache-evict';
  readonly kind: 'encrypt' | 'decrypt';
  readonly partition: string;
  readonly suiteId?: number;
  readonly latencyMs?: number;
  /** Encryption-context keys only, never values. */
  readonly contextKeys: readonly string[];
  readonly reason?: string;
}

export interface CacheMetrics {
  hits: number;
  misses: number;
  /** Calls to the underlying manager (what a cache saves). */
  keyringCalls: number;
  evictions: number;
  expirations: number;
  exhaustions: number;
  bypassed: number;
}

export class CachingMaterialsManager implements MaterialsManager {
  readonly underlying: MaterialsManager;
  readonly cache: MaterialsCache;
  readonly partition: string;
  readonly maxAgeMs: number;
  readonly maxMessagesEncrypted: number;
  readonly maxBytesEncrypted: number;
  readonly #clock: () => number;
  readonly #onEvent: ((e: CacheEvent) => void) | undefined;
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #metrics: CacheMetrics = { hits: 0, misses: 0, keyringCalls: 0, evictions: 0, expirations: 0, exhaustions: 0, bypassed: 0 };

  constructor(o: CachingMaterialsManagerOptions) {
    const u = o?.underlying as Partial<MaterialsManager & Keyring> | undefined;
    if (!u) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'underlying: expected a MaterialsManager or Keyring');
    this.underlying = typeof u.getEncryptionMaterials === 'function' ? (u as MaterialsManager) : new DefaultMaterialsManager(u as Keyring);
    if (!Number.isFinite(o.maxAgeMs) || o.maxAgeMs <= 0) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'maxAgeMs: required, a positive number of milliseconds');
    const pos = (v: number | undefined, p: string, d: number): number => {
      if (v === undefined) return d;
      if (!Number.isSafeInteger(v) || v < 1) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${p}: expected a positive integer`);
      return v;
    };
    this.maxAgeMs = o.maxAgeMs;
    this.maxMessagesEncrypted = pos(o.maxMessagesEncrypted, 'maxMessagesEncrypted', 2 ** 32);
    this.maxBytesEncrypted = pos(o.maxBytesEncrypted, 'maxBytesEncrypted', Number.MAX_SAFE_INTEGER);
    this.partition = o.partition ?? randomUUID();
    this.cache = o.cache ?? new LruMaterialsCache({ capacity: 1000 });
    const prev = this.cache.onRemove;
    this.cache.onRemove = (reason) => {
      prev?.(reason);
      if (reason === 'evicted') this.#metrics.evictions++;
    };
    this.#clock = o.clock ?? (() => performance.now());
    this.#onEvent = o.onEvent;
  }

  metrics(): Readonly<CacheMetrics> {
    return { ...this.#metrics };
  }

  async getEncryptionMaterials(request: EncryptionMaterialsRequest): Promise<EncryptionMaterials> {
    const bytes = request.plaintextLength;
    if (bytes === undefined || (request.suite && !request.suite.kdfHash) || bytes > this.maxBytesEncrypted) {
      this.#metrics.bypassed++;
      this.#metrics.keyringCalls++;
      return this.underlying.getEncryptionMaterials(request);
    }
    const key = encryptCacheKey(this.partition, request);
    return this.#through(
      key,
      'encrypt',
      request.encryptionContext,
      (e) => this.#takeEncrypt(key, e as CacheEntry<EncryptionMaterials>, bytes),
      () => this.underlying.getEncryptionMaterials(request),
      (m) => copyEncryptionMaterials(m as EncryptionMaterials),
    ) as Promise<EncryptionMaterials>;
  }

  async decryptMaterials(request: DecryptionMaterialsRequest): Promise<DecryptionMaterials> {
    if (!request.suite.kdfHash) {
      this.#metrics.bypassed++;
      this.#metrics.keyringCalls++;
      return this.underlying.decryptMaterials(request);
    }
    const key = decryptCacheKey(this.partition, request);
    return this.#through(
      key,
      'decrypt',
      request.encryptionContext,
      (e) => this.#fresh(key, e),
      () => this.underlying.decryptMaterials(request),
      (m) => copyDecryptionMaterials(m as DecryptionMaterials),
    ) as Promise<DecryptionMaterials>;
  }

  /** True if the entry is within its age; an expired entry is removed (and zeroized). */
  #fresh(key: string, e: CacheEntry): boolean {
    if (this.#clock() - e.createdAt < this.maxAgeMs) return true;
    this.#metrics.expirations++;
    this.cache.delete(key, 'expired');
    return false;
  }

  /** Takes one use (a message of `bytes`) if every limit allows it. */
  #takeEncrypt(key: string, e: CacheEntry<EncryptionMaterials>, bytes: number): boolean {
    if (!this.#fresh(key, e)) return false;
    if (e.messages + 1 > this.maxMessagesEncrypted || e.bytes + bytes > this.maxBytesEncrypted) {
      this.#metrics.exhaustions++;
      this.cache.delete(key, 'exhausted');
      return false;
    }
    e.messages++;
    e.bytes += bytes;
    return true;
  }

  async #through(
    key: string,
    kind: 'encrypt' | 'decrypt',
    ec: Readonly<Record<string, string>>,
    take: (e: CacheEntry) => boolean,
    load: () => Promise<EncryptionMaterials | DecryptionMaterials>,
    copy: (m: EncryptionMaterials | DecryptionMaterials) => EncryptionMaterials | DecryptionMaterials,
  ): Promise<EncryptionMaterials | DecryptionMaterials> {
    for (let round = 0; ; round++) {
      const e = this.cache.get(key);
      if (e && take(e)) {
        // A use taken right after this request's own load is not a hit.
        if (round === 0) {
          this.#metrics.hits++;
          this.#event({ operation: 'cache-hit', kind, suiteId: e.materials.suite.id, contextKeys: Object.keys(ec) });
        }
        return copy(e.materials);
      }
      // Miss: one call per key at a time; everyone else waits for it, then tries to take a use.
      let flight = this.#inflight.get(key);
      if (!flight) {
        this.#metrics.misses++;
        this.#metrics.keyringCalls++;
        const t0 = this.#clock();
        flight = load().then((m) => {
          this.#event({ operation: 'cache-miss', kind, suiteId: m.suite.id, latencyMs: this.#clock() - t0, contextKeys: Object.keys(ec) });
          if (!m.suite.kdfHash) throw new NoCache(m);
          this.cache.put(key, { materials: m, createdAt: this.#clock(), messages: 0, bytes: 0 });
        });
        this.#inflight.set(key, flight);
        void flight.then(
          () => this.#inflight.delete(key),
          () => this.#inflight.delete(key),
        );
        try {
          await flight;
        } catch (err) {
          if (err instanceof NoCache) return err.materials; // the leader keeps uncacheable materials
          throw err;
        }
      } else {
        try {
          await flight;
        } catch (err) {
          if (!(err instanceof NoCache)) throw err;
          // Uncacheable materials went to the leader; this waiter loads its own.
          this.#metrics.keyringCalls++;
          return load();
        }
      }
      if (round > 16) throw new EnvelopeError('ENVELOPE_INTERNAL', 'cache could not serve a request after repeated loads');
    }
  }

  #event(e: Omit<CacheEvent, 'partition'>): void {
    try {
      this.#onEvent?.({ ...e, partition: this.partition });
    } catch {
      // An audit sink must not break encryption.
    }
  }
}

/** Carries materials that must not be cached (no-KDF suite) from the single flight to its leader. */
class NoCache extends Error {
  constructor(readonly materials: EncryptionMaterials | DecryptionMaterials) {
    super('not cacheable');
  }
}
