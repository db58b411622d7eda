/**
 * The hierarchical keyring
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#aws-kms-hierarchical-keyring): data keys
 * wrapped under keys derived locally from a branch key, which a {@link BranchKeyStore} keeps in
 * DynamoDB under a KMS key. KMS is called once per branch key (version) per cache TTL instead of
 * once per message. Wire-compatible with the AWS Encryption SDK's `KmsHierarchicalKeyRingNode` and
 * the Material Providers Library's hierarchical keyring (provider id `aws-kms-hierarchy`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  EnvelopeError,
  describeFailures,
  invalidArgument,
  rethrowIfAborted,
  throwIfAborted,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionContext,
  type EncryptionMaterials,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';
import type { BranchKeyMaterials } from './branch-key-materials.js';
import { BranchKeyCache, DECRYPT_SCOPE, ENCRYPT_SCOPE, cacheId } from './branch-key-cache.js';
import { keyStoreError, subject } from './errors.js';
import { PROVIDER_ID, parseWrappedKey, unwrapDataKey, wrapDataKey } from './wrapping.js';
import { uuidFromBytes } from './uuid.js';

/** What the keyring needs of a key store: its logical name and the two reads. */
export interface BranchKeySource {
  readonly logicalKeyStoreName: string;
  getActiveBranchKey(branchKeyId: string, options?: KeyringCallOptions): Promise<BranchKeyMaterials>;
  getBranchKeyVersion(branchKeyId: string, version: string, options?: KeyringCallOptions): Promise<BranchKeyMaterials>;
}

/** Picks the branch key for a message from its encryption context (multi-tenant use). */
export type BranchKeyIdSupplier = (encryptionContext: EncryptionContext) => string | Promise<string>;

export interface HierarchicalKeyringOptions {
  keyStore: BranchKeySource;
  /** One branch key for every message… */
  branchKeyId?: string | undefined;
  /** …or one chosen per message from its encryption context. */
  branchKeyIdSupplier?: BranchKeyIdSupplier | undefined;
  /** How long branch key materials are used before they are read (and KMS called) again. > 0. */
  cacheTtlSeconds: number;
  /** Entries in this keyring's own cache (ignored with `cache`). Default 1000. */
  cacheLimit?: number | undefined;
  /** A cache shared with other hierarchical keyrings (see `partitionId`). */
  cache?: BranchKeyCache | undefined;
  /** Keyrings sharing a cache share entries only with the same partition id. Default: a random UUID. */
  partitionId?: string | undefined;
  /**
   * A hit this close to the end of an entry's TTL refreshes it in the background (one read, while
   * the entry keeps serving). Default: a tenth of the TTL, at most 60 s. 0 turns it off.
   */
  refreshAheadSeconds?: number | undefined;
  /** For the cache's clock (ms, monotonic); tests pass a fake one. Ignored with `cache`. */
  now?: (() => number) | undefined;
}

/**
 * A branch key supplier that reads the id from one encryption context key.
 *
 * @example
 * ```ts
 * new HierarchicalKeyring({ keyStore, branchKeyIdSupplier: branchKeyIdFromContext('tenant'), cacheTtlSeconds: 600 });
 * ```
 */
export function branchKeyIdFromContext(contextKey: string): BranchKeyIdSupplier {
  if (typeof contextKey !== 'string' || contextKey === '') throw invalidArgument('contextKey', 'expected an encryption context key');
  return (ec) => {
    const v = Object.prototype.hasOwnProperty.call(ec, contextKey) ? ec[contextKey] : undefined;
    if (!v) throw invalidArgument(`encryptionContext.${contextKey}`, 'the branch key id comes from this key, and it is missing');
    return v;
  };
}

/**
 * Wraps data keys with branch keys.
 *
 * - `onEncrypt`: the active version of the branch key (cached, or read once however many
 *   messages wait for it), a fresh salt and IV, a wrapping key derived from them, AES-256-GCM of
 *   the data key bound to the branch key id, version and encryption context. It generates the
 *   data key when the materials have none.
 * - `onDecrypt`: for each `aws-kms-hierarchy` EDK naming this keyring's branch key, the version
 *   it names (cached, or read once), then the unwrap. Other EDKs are not this keyring's.
 *
 * Reading the active version also caches it as that version for decrypt (it is the same key), so
 * an encrypt-then-decrypt of one branch key costs one KMS call per TTL, not two.
 *
 * @example
 * ```ts
 * const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId, cacheTtlSeconds: 600 });
 * const { ciphertext } = await encrypt(data, { keyring, encryptionContext: { tenant: 'acme' } });
 * ```
 */
export class HierarchicalKeyring implements Keyring {
  readonly keyStore: BranchKeySource;
  readonly branchKeyId: string | undefined;
  readonly cache: BranchKeyCache;
  readonly ttlMs: number;
  readonly refreshAheadMs: number;
  readonly #supplier: BranchKeyIdSupplier | undefined;
  readonly #partition: Uint8Array;

  constructor(o: HierarchicalKeyringOptions) {
    if (!o?.keyStore || typeof o.keyStore.getActiveBranchKey !== 'function' || typeof o.keyStore.getBranchKeyVersion !== 'function')
      throw invalidArgument('keyStore', 'expected a BranchKeyStore');
    if ((o.branchKeyId === undefined) === (o.branchKeyIdSupplier === undefined))
      throw invalidArgument('branchKeyId', 'give exactly one of branchKeyId or branchKeyIdSupplier');
    if (o.branchKeyId !== undefined && (typeof o.branchKeyId !== 'string' || o.branchKeyId === ''))
      throw invalidArgument('branchKeyId', 'expected a non-empty string');
    if (o.branchKeyIdSupplier !== undefined && typeof o.branchKeyIdSupplier !== 'function')
      throw invalidArgument('branchKeyIdSupplier', 'expected a function of the encryption context');
    // spec "Cache Limit TTL": MUST be greater than zero.
    if (typeof o.cacheTtlSeconds !== 'number' || !(o.cacheTtlSeconds > 0) || !Number.isFinite(o.cacheTtlSeconds))
      throw invalidArgument('cacheTtlSeconds', 'expected a number of seconds > 0');
    this.keyStore = o.keyStore;
    this.branchKeyId = o.branchKeyId;
    this.#supplier = o.branchKeyIdSupplier;
    this.ttlMs = o.cacheTtlSeconds * 1000;
    const ahead = o.refreshAheadSeconds;
    if (ahead !== undefined && (typeof ahead !== 'number' || !(ahead >= 0) || ahead >= o.cacheTtlSeconds))
      throw invalidArgument('refreshAheadSeconds', 'expected a number of seconds ≥ 0 and below cacheTtlSeconds');
    this.refreshAheadMs = ahead === undefined ? Math.min(this.ttlMs / 10, 60_000) : ahead * 1000;
    this.cache = o.cache ?? new BranchKeyCache({ capacity: o.cacheLimit, now: o.now });
    // spec "Partition ID": the user's string as UTF-8, else the 16 bytes of a v4 UUID.
    this.#partition = o.partitionId !== undefined ? Buffer.from(o.partitionId, 'utf8') : Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  }

  async #branchKeyIdFor(ec: EncryptionContext): Promise<string> {
    if (this.branchKeyId !== undefined) return this.branchKeyId;
    const id = await this.#supplier!(ec);
    if (typeof id !== 'string' || id === '')
      throw invalidArgument('branchKeyIdSupplier', 'returned something other than a non-empty string');
    return id;
  }

  #decryptId(branchKeyId: string, version: string): string {
    return cacheId(DECRYPT_SCOPE, this.#partition, this.keyStore.logicalKeyStoreName, branchKeyId, version);
  }

  /** The active version, from the cache or (single-flight) the store; the caller zeroizes it. */
  activeBranchKey(branchKeyId: string, signal?: AbortSignal): Promise<BranchKeyMaterials> {
    return this.cache.getOrLoad(
      cacheId(ENCRYPT_SCOPE, this.#partition, this.keyStore.logicalKeyStoreName, branchKeyId),
      (s) => this.keyStore.getActiveBranchKey(branchKeyId, { signal: s }),
      { ttlMs: this.ttlMs, signal, refreshAheadMs: this.refreshAheadMs, aliases: (m) => [this.#decryptId(branchKeyId, m.version)] },
    );
  }

  /** One version, from the cache or (single-flight) the store; the caller zeroizes it. */
  branchKeyVersion(branchKeyId: string, version: string, signal?: AbortSignal): Promise<BranchKeyMaterials> {
    return this.cache.getOrLoad(
      this.#decryptId(branchKeyId, version),
      (s) => this.keyStore.getBranchKeyVersion(branchKeyId, version, { signal: s }),
      { ttlMs: this.ttlMs, signal, refreshAheadMs: this.refreshAheadMs },
    );
  }

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    throwIfAborted(options?.signal);
    const branchKeyId = await this.#branchKeyIdFor(materials.encryptionContext);
    const branch = await this.activeBranchKey(branchKeyId, options?.signal);
    const generated = !materials.hasDataKey;
    const dataKey = generated ? randomBytes(materials.suite.keyLength) : materials.getDataKey();
    try {
      const ciphertext = branch.withKey((branchKey) =>
        wrapDataKey({ branchKey, branchKeyId, version: branch.versionBytes, dataKey, encryptionContext: materials.encryptionContext }),
      );
      if (generated) materials.setDataKey(dataKey);
      materials.addEncryptedDataKey({ providerId: PROVIDER_ID, providerInfo: Buffer.from(branchKeyId, 'utf8'), ciphertext });
      return materials;
    } finally {
      dataKey.fill(0);
      branch.zeroize();
    }
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    throwIfAborted(options?.signal);
    const ours = edks.filter((e) => e.providerId === PROVIDER_ID);
    if (ours.length === 0) return materials;
    const branchKeyId = await this.#branchKeyIdFor(materials.encryptionContext);
    const name = Buffer.from(branchKeyId, 'utf8');
    const causes: KeyFailure[] = [];
    const errors: unknown[] = [];
    for (const edk of ours) {
      // spec OnDecrypt: provider info must be this keyring's branch key id (UTF-8).
      if (!name.equals(edk.providerInfo)) continue;
      const wrapped = parseWrappedKey(edk.ciphertext, materials.suite.keyLength);
      if (!wrapped) {
        causes.push({ key: branchKeyId, reason: 'MalformedEncryptedDataKey' });
        errors.push(
          keyStoreError('MalformedEncryptedDataKey', 'an EDK of the wrong length for this suite', {
            branchKeyId,
            code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
          }),
        );
        continue;
      }
      const version = uuidFromBytes(wrapped.version);
      let branch: BranchKeyMaterials;
      try {
        branch = await this.branchKeyVersion(branchKeyId, version, options?.signal);
      } catch (e) {
        rethrowIfAborted(e);
        causes.push(...(e instanceof EnvelopeError && e.causes.length ? e.causes : [{ key: branchKeyId, reason: 'Error', error: e }]));
        errors.push(e);
        continue;
      }
      let dataKey: Uint8Array | undefined;
      try {
        dataKey = branch.withKey((branchKey) =>
          unwrapDataKey({ branchKey, branchKeyId, wrapped, encryptionContext: materials.encryptionContext }),
        );
      } finally {
        branch.zeroize();
      }
      if (!dataKey) {
        causes.push({ key: branchKeyId, reason: 'AuthenticationFailed' });
        errors.push(
          keyStoreError('AuthenticationFailed', 'the data key did not authenticate (another encryption context, or a changed EDK)', {
            branchKeyId,
            version,
            code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
          }),
        );
        continue;
      }
      try {
        materials.setDataKey(dataKey);
      } finally {
        dataKey.fill(0);
      }
      return materials;
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1)
      throw new EnvelopeError(
        'ENVELOPE_NO_DECRYPTABLE_KEY',
        `${subject(branchKeyId)}: no encrypted data key could be unwrapped: ${describeFailures(causes)}`,
        {
          causes,
        },
      );
    return materials;
  }
}
