/**
 * The branch key store (spec: framework/branch-key-store.md#keystore): branch keys in a DynamoDB
 * table with the AWS key store's schema and item encoding, each wrapped by a KMS key under an
 * encryption context that authenticates every attribute of its item. Wire-compatible with the AWS
 * Encryption SDK's `BranchKeyStoreNode` and the Material Providers Library's key store: either can
 * create a key the other reads, and version it.
 *
 * KMS goes through keyring-kms's client supplier; DynamoDB through a {@link DynamoDbClientSupplier};
 * every call under a deadline and the caller's AbortSignal. With `replicaRegions` (the table a
 * global table, the KMS key a multi-region key), reads fail over between regions through the
 * health registry and hedging of keyring-multi-region; writes go to the home region (the KMS
 * key's) and replicate with the table.
 */
import { randomUUID } from 'node:crypto';
import { EnvelopeError, invalidArgument, type KeyringCallOptions } from '@envelope/core';
import { Retrier, mrkMatch, parseKeyArn, withRegion, type KeyArn, type KmsClientSupplier, type RetryOptions } from '@envelope/keyring-kms';
import { sharedHealthRegistry, type HealthRegistry } from '@envelope/keyring-multi-region';
import { BranchKeyMaterials } from './branch-key-materials.js';
import { createKeyStoreTable } from './create-store.js';
import type { DynamoDbClientSupplier } from './dynamodb-client.js';
import { keyStoreError, keyStoreReason, subject } from './errors.js';
import {
  ACTIVE_TYPE,
  activeContext,
  beaconContext,
  createTime,
  decryptOnlyContext,
  readItem,
  toItem,
  versionType,
  type NewKeyFields,
  type StoredKey,
} from './item.js';
import { readFromRegions, regionErrors } from './regional-read.js';
import { decryptBranchKey, generateWrappedKey, getItem, reEncrypt, writeItems, type CallScope } from './store-calls.js';
import { isUuid } from './uuid.js';

export interface BranchKeyStoreOptions extends Pick<RetryOptions, 'callTimeoutMs' | 'maxRetries' | 'retryBudget' | 'clock'> {
  /** The DynamoDB table (in the KMS key's region, and in each replica region). */
  tableName: string;
  /** Bound into every item's KMS context as `tablename`: one name per physical store. */
  logicalKeyStoreName: string;
  /** The KMS key ARN that wraps branch keys (not an alias). A multi-region key (`mrk-…`) allows replicas. */
  kmsKeyArn: string;
  /** Further regions with a replica of the table and of the (multi-region) KMS key: reads fail over to them. */
  replicaRegions?: readonly string[] | undefined;
  /** KMS clients by region (keyring-kms's supplier). */
  kms: KmsClientSupplier;
  /** DynamoDB clients by region. */
  dynamoDb: DynamoDbClientSupplier;
  grantTokens?: readonly string[] | undefined;
  /** Bound on one whole read across regions (ms). Default 5000. */
  deadlineMs?: number | undefined;
  /** Fixed hedge delay between regions (ms). Default: from each region's observed latency. */
  hedgeAfterMs?: number | undefined;
  /** Region health; default the process-wide registry (shared with the multi-region keyring). */
  health?: HealthRegistry | undefined;
  /** Default: a new v4 UUID. */
  keyStoreId?: string | undefined;
  /** For `create-time`; default `new Date()`. */
  now?: (() => Date) | undefined;
}

/** GetKeyStoreInfo (spec: framework/branch-key-store.md#getkeystoreinfo): what this store is. */
export interface KeyStoreInfo {
  readonly keyStoreId: string;
  readonly tableName: string;
  readonly logicalKeyStoreName: string;
  readonly kmsKeyArn: string;
  readonly grantTokens: readonly string[];
  /** Home region first, then the replicas. */
  readonly regions: readonly string[];
}

/** Branch key ids are partition keys: non-empty, and short enough to name in errors and AAD. */
function checkBranchKeyId(id: unknown, param = 'branchKeyId'): string {
  if (typeof id !== 'string' || id === '' || id.length > 1024 || hasControlCharacter(id))
    throw invalidArgument(param, 'expected a non-empty string of at most 1024 printable characters');
  return id;
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) return true;
  return false;
}

function requireString(v: unknown, param: string): string {
  if (typeof v !== 'string' || v === '') throw invalidArgument(param, 'expected a non-empty string');
  return v;
}

/**
 * Creates, versions and reads branch keys.
 *
 * @example
 * ```ts
 * const store = new BranchKeyStore({
 *   tableName: 'branch-keys', logicalKeyStoreName: 'branch-keys', kmsKeyArn,
 *   kms: kmsClientSupplier(), dynamoDb: dynamoDbClientSupplier(),
 * });
 * await store.createStore();
 * const { branchKeyId } = await store.createKey();
 * await store.versionKey({ branchKeyId });
 * ```
 */
export class BranchKeyStore {
  readonly tableName: string;
  readonly logicalKeyStoreName: string;
  readonly kmsKeyArn: string;
  readonly keyStoreId: string;
  readonly grantTokens: readonly string[];
  /** Home region (the KMS key's) first, then replicas. */
  readonly regions: readonly string[];
  readonly health: HealthRegistry;
  readonly #key: KeyArn;
  /** The store's key in each region, home first (for region ranking). */
  readonly #regionKeys: readonly KeyArn[];
  readonly #o: BranchKeyStoreOptions;
  /** Retries in place: writes, and reads when there is no other region to go to. */
  readonly #retrier: Retrier;
  /** One attempt per region: with replicas, hedging to another region replaces retrying. */
  readonly #hedgedRetrier: Retrier;
  readonly #deadlineMs: number;

  constructor(o: BranchKeyStoreOptions) {
    if (!o || typeof o !== 'object') throw invalidArgument('options', 'expected an object');
    this.tableName = requireString(o.tableName, 'tableName');
    this.logicalKeyStoreName = requireString(o.logicalKeyStoreName, 'logicalKeyStoreName');
    const key = typeof o.kmsKeyArn === 'string' ? parseKeyArn(o.kmsKeyArn) : undefined;
    // (spec: framework/branch-key-store.md#aws-kms-configuration): the ARN MUST NOT be an alias and
    // MUST be a valid key ARN.
    if (!key) throw invalidArgument('kmsKeyArn', 'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
    if (typeof o.kms !== 'function') throw invalidArgument('kms', 'expected a region → KMS client supplier');
    if (typeof o.dynamoDb !== 'function') throw invalidArgument('dynamoDb', 'expected a region → DynamoDB client supplier');
    const replicas = [...(o.replicaRegions ?? [])];
    for (const [i, r] of replicas.entries()) requireString(r, `replicaRegions[${i}]`);
    if (replicas.length && !key.multiRegion)
      throw invalidArgument('replicaRegions', 'a key store with replicas needs a multi-region KMS key (mrk-…)');
    const regions = [key.region, ...replicas];
    if (new Set(regions).size !== regions.length)
      throw invalidArgument('replicaRegions', 'each region once, and not the KMS key’s own region');
    this.#key = key;
    this.#regionKeys = regions.map((r) => (r === key.region ? key : parseKeyArn(withRegion(key, r))!));
    this.kmsKeyArn = key.arn;
    this.regions = Object.freeze(regions);
    this.grantTokens = Object.freeze([...(o.grantTokens ?? [])]);
    this.keyStoreId = o.keyStoreId ?? randomUUID();
    this.health = o.health ?? sharedHealthRegistry();
    this.#deadlineMs = o.deadlineMs ?? 5000;
    this.#retrier = new Retrier(o);
    this.#hedgedRetrier = new Retrier({ ...o, maxRetries: 0 });
    this.#o = o;
  }

  /** GetKeyStoreInfo. */
  info(): KeyStoreInfo {
    return {
      keyStoreId: this.keyStoreId,
      tableName: this.tableName,
      logicalKeyStoreName: this.logicalKeyStoreName,
      kmsKeyArn: this.kmsKeyArn,
      grantTokens: this.grantTokens,
      regions: this.regions,
    };
  }

  #scope(region: string, signal: AbortSignal | undefined, extra: { branchKeyId?: string; version?: string } = {}): CallScope {
    return { region, tableName: this.tableName, retrier: this.#retrier, signal, ...extra };
  }

  #home(): string {
    return this.#key.region;
  }

  /** The configured key as called in `region` (a multi-region key's replica there). */
  #keyIn(region: string): string {
    return region === this.#key.region ? this.#key.arn : withRegion(this.#key, region);
  }

  /** (spec: framework/branch-key-store.md#aws-key-arn-compatibility): exact for a single-region key; any replica of a multi-region key. */
  #compatible(kmsArn: string): boolean {
    return this.#key.multiRegion ? mrkMatch(this.#key.arn, kmsArn) : kmsArn === this.#key.arn;
  }

  #checkKey(stored: StoredKey, region: string): void {
    if (!this.#compatible(stored.kmsArn))
      throw keyStoreError('KmsKeyMismatch', `the item was made under ${stored.kmsArn}, not under the store's key ${this.kmsKeyArn}`, {
        branchKeyId: stored.branchKeyId,
        version: stored.type === ACTIVE_TYPE ? undefined : stored.version,
        region,
      });
  }

  /** CreateKeyStore: the table (home region), made if missing, checked if present. Returns its ARN. */
  async createStore(options: KeyringCallOptions = {}): Promise<{ tableArn: string; created: boolean }> {
    const home = this.#home();
    return createKeyStoreTable(this.#o.dynamoDb(home), this.#scope(home, options.signal));
  }

  /**
   * CreateKey: a new branch key (id: given or a v4 UUID) with its first version, ACTIVE item and
   * beacon key, written in one transaction that fails if the id exists. `encryptionContext` is
   * bound to every version; with an explicit id it is required
   * (spec: framework/branch-key-store.md#createkey).
   */
  async createKey(
    o: { branchKeyId?: string | undefined; encryptionContext?: Readonly<Record<string, string>> | undefined } & KeyringCallOptions = {},
  ): Promise<{ branchKeyId: string; version: string }> {
    const custom = o.encryptionContext ?? {};
    for (const [k, v] of Object.entries(custom)) {
      if (k === '' || typeof v !== 'string' || v === '')
        throw invalidArgument('encryptionContext', 'keys and values must be non-empty strings');
    }
    if (o.branchKeyId !== undefined && Object.keys(custom).length === 0)
      throw invalidArgument('encryptionContext', 'a branch key with a chosen id needs an encryption context (spec: CreateKey)');
    const branchKeyId = o.branchKeyId === undefined ? randomUUID() : checkBranchKeyId(o.branchKeyId);
    const version = randomUUID();
    const f: NewKeyFields = {
      branchKeyId,
      createTime: createTime(this.#now()),
      kmsArn: this.kmsKeyArn,
      customContext: custom,
      logicalKeyStoreName: this.logicalKeyStoreName,
    };
    const home = this.#home();
    const s = this.#scope(home, o.signal, { branchKeyId, version });
    const kms = this.#o.kms(home);
    const k = { keyArn: this.kmsKeyArn, grantTokens: this.grantTokens };
    const decryptOnly = await generateWrappedKey(kms, s, { ...k, context: decryptOnlyContext(f, version) });
    const active = await reEncrypt(kms, s, {
      ...k,
      blob: decryptOnly,
      from: decryptOnlyContext(f, version),
      to: activeContext(f, version),
    });
    const beacon = await generateWrappedKey(kms, { ...s, version: undefined }, { ...k, context: beaconContext(f) });
    const notThere = 'attribute_not_exists(#pk)';
    await writeItems(
      this.#o.dynamoDb(home),
      s,
      [
        { item: toItem(decryptOnlyContext(f, version), decryptOnly), condition: notThere },
        { item: toItem(activeContext(f, version), active), condition: notThere },
        { item: toItem(beaconContext(f), beacon), condition: notThere },
      ],
      randomUUID(),
      () => keyStoreError('AlreadyExists', `already exists in table ${JSON.stringify(this.tableName)}`, { branchKeyId, region: home }),
    );
    return { branchKeyId, version };
  }

  /**
   * VersionKey: a new active version. The current ACTIVE item is read and authenticated by KMS
   * (ReEncrypt to its own context) before anything is written; the write fails if the ACTIVE
   * item changed in between (the `enc = :encOld` condition,
   * (spec: framework/branch-key-store.md#versionkey)). Returns the new
   * version.
   */
  async versionKey(o: { branchKeyId: string } & KeyringCallOptions): Promise<{ version: string }> {
    const branchKeyId = checkBranchKeyId(o?.branchKeyId);
    const home = this.#home();
    const s = this.#scope(home, o.signal, { branchKeyId });
    const item = await getItem(this.#o.dynamoDb(home), { ...s, branchKeyId }, ACTIVE_TYPE, true);
    if (!item)
      throw keyStoreError('BranchKeyNotFound', `not found in table ${JSON.stringify(this.tableName)}`, { branchKeyId, region: home });
    const stored = readItem(item, { branchKeyId, type: ACTIVE_TYPE, logicalKeyStoreName: this.logicalKeyStoreName });
    this.#checkKey(stored, home);
    const kms = this.#o.kms(home);
    const k = { keyArn: this.kmsKeyArn, grantTokens: this.grantTokens };
    // (spec: framework/branch-key-store.md#authenticating-a-keystore-item): ReEncrypt to the same
    // context proves the item intact.
    await reEncrypt(kms, s, { ...k, blob: stored.enc, from: stored.context, to: stored.context });
    const version = randomUUID();
    const f: NewKeyFields = {
      branchKeyId,
      createTime: createTime(this.#now()),
      // spec: the stored kms-arn MUST NOT change, even under a compatible multi-region replica.
      kmsArn: stored.kmsArn,
      customContext: stored.customContext,
      logicalKeyStoreName: this.logicalKeyStoreName,
    };
    const sv = { ...s, version };
    const decryptOnly = await generateWrappedKey(kms, sv, { ...k, context: decryptOnlyContext(f, version) });
    const active = await reEncrypt(kms, sv, {
      ...k,
      blob: decryptOnly,
      from: decryptOnlyContext(f, version),
      to: activeContext(f, version),
    });
    await writeItems(
      this.#o.dynamoDb(home),
      sv,
      [
        { item: toItem(decryptOnlyContext(f, version), decryptOnly), condition: 'attribute_not_exists(#pk)' },
        {
          item: toItem(activeContext(f, version), active),
          condition: 'attribute_exists(#pk) AND #enc = :encOld',
          values: { ':encOld': { B: stored.enc } },
        },
      ],
      randomUUID(),
      () =>
        keyStoreError('ConcurrentModification', 'the active version changed while it was being rotated; try again', {
          branchKeyId,
          region: home,
        }),
    );
    return { version };
  }

  /** GetActiveBranchKey: the materials of the active version. The caller owns (and zeroizes) them. */
  getActiveBranchKey(branchKeyId: string, options: KeyringCallOptions = {}): Promise<BranchKeyMaterials> {
    return this.#read(checkBranchKeyId(branchKeyId), ACTIVE_TYPE, undefined, options.signal);
  }

  /** GetBranchKeyVersion: the materials of one version. The caller owns (and zeroizes) them. */
  getBranchKeyVersion(branchKeyId: string, version: string, options: KeyringCallOptions = {}): Promise<BranchKeyMaterials> {
    if (!isUuid(version)) return Promise.reject(invalidArgument('version', 'expected a lower-case UUID'));
    return this.#read(checkBranchKeyId(branchKeyId), versionType(version), version, options.signal);
  }

  async #read(
    branchKeyId: string,
    type: string,
    version: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<BranchKeyMaterials> {
    const retrier = this.regions.length > 1 ? this.#hedgedRetrier : this.#retrier;
    try {
      const r = await readFromRegions(
        { keys: this.#regionKeys, health: this.health, hedgeAfterMs: this.#o.hedgeAfterMs, deadlineMs: this.#deadlineMs },
        subject(branchKeyId, version),
        (region, s) => this.#readIn(region, branchKeyId, type, version, { ...this.#scope(region, s, { branchKeyId, version }), retrier }),
        (late) => late.zeroize(),
        signal,
      );
      return r.value;
    } catch (e) {
      throw readFailure(e, branchKeyId, version);
    }
  }

  /** One region's GetItem, checks and KMS Decrypt. */
  async #readIn(region: string, branchKeyId: string, type: string, version: string | undefined, s: CallScope): Promise<BranchKeyMaterials> {
    const item = await getItem(this.#o.dynamoDb(region), { ...s, branchKeyId }, type);
    if (!item) {
      throw version === undefined
        ? keyStoreError('BranchKeyNotFound', `not found in table ${JSON.stringify(this.tableName)}`, { branchKeyId, region })
        : keyStoreError('VersionNotFound', `not found in table ${JSON.stringify(this.tableName)}`, { branchKeyId, version, region });
    }
    const stored = readItem(item, { branchKeyId, type, logicalKeyStoreName: this.logicalKeyStoreName });
    this.#checkKey(stored, region);
    const key = await decryptBranchKey(
      this.#o.kms(region),
      { ...s, version: stored.version },
      {
        keyArn: this.#keyIn(region),
        enc: stored.enc,
        context: stored.context,
        grantTokens: this.grantTokens,
      },
    );
    try {
      return new BranchKeyMaterials({ branchKeyId, version: stored.version, key, encryptionContext: stored.customContext });
    } finally {
      key.fill(0);
    }
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }
}

/**
 * One error for a read that failed in every region: the key store's own error when every region
 * gave the same verdict about the item (missing, tampered, …: one coded answer, not a list);
 * otherwise hedging's timeout or abort, or ENVELOPE_KEY_STORE `Unavailable`, listing each region.
 */
function readFailure(e: unknown, branchKeyId: string, version: string | undefined): EnvelopeError {
  const errors = regionErrors(e);
  const reasons = new Set(errors.map(keyStoreReason));
  if (errors.length && reasons.size === 1 && !reasons.has(undefined)) return errors[0] as EnvelopeError;
  if (errors.length === 1 && errors[0] instanceof EnvelopeError) return errors[0];
  if (!(e instanceof EnvelopeError)) return keyStoreError('Unavailable', String(e), { branchKeyId, version, cause: e });
  if (e.code === 'ENVELOPE_ABORTED' || e.code === 'ENVELOPE_TIMEOUT')
    return new EnvelopeError(e.code, `${subject(branchKeyId, version)}: ${e.message}`, { cause: e, causes: e.causes });
  return new EnvelopeError('ENVELOPE_KEY_STORE', `${subject(branchKeyId, version)}: no region could read it: ${e.message}`, {
    cause: e,
    causes: e.causes.map((c) => ({ ...c, key: branchKeyId })),
  });
}
