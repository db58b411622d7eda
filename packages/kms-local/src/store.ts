/**
 * Keys, aliases and key material per region, in memory, written through to the data directory
 * (when there is one) before any change is acknowledged.
 *
 * A key's material belongs to its *family*: the key id, which multi-region replicas share, so a
 * replica holds the same material as its primary (as in the real service). Rotation appends a
 * material version to the family; old versions stay for decrypt.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EnvelopeError } from '@envelope/core';
import { KmsError, notFound } from './errors.js';
import { MAX_MATERIAL_VERSION } from './ciphertext.js';
import type { StateFile } from './persistence.js';

/** The states kms-local models (the service has a few more for imports and custom key stores). */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

/** One key in one region (a multi-region replica is its own record with its own ARN). */
export interface KeyRecord {
  keyId: string;
  arn: string;
  region: string;
  /** Material family: the key id (shared by multi-region replicas). */
  family: string;
  description: string;
  state: KeyState;
  /** Seconds since the epoch (the service's timestamp unit on the wire). */
  created: number;
  multiRegion: boolean;
  /** For multi-region keys: the primary's region. */
  primaryRegion?: string;
  rotationEnabled: boolean;
  deletionDate?: number;
}

interface Material {
  bytes: Buffer;
  /** The same bytes wrapped under the root key, computed once (only with a data directory). */
  wrapped?: string;
}

interface Snapshot {
  format: 1;
  keys: KeyRecord[];
  aliases: { region: string; name: string; target: string }[];
  /** family → wrapped material versions. */
  materials: Record<string, string[]>;
}

const MATERIAL_BYTES = 32;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The key database of one kms-local. */
export class KeyStore {
  readonly #keys = new Map<string, Map<string, KeyRecord>>(); // region → keyId → record
  readonly #aliases = new Map<string, Map<string, string>>(); // region → alias name → keyId
  readonly #materials = new Map<string, Material[]>(); // family → versions
  readonly #byArn = new Map<string, KeyRecord>(); // key ARN → record: the common KeyId form, without parsing
  readonly #file: StateFile | undefined;

  private constructor(
    readonly regions: readonly string[],
    readonly accountId: string,
    file: StateFile | undefined,
  ) {
    this.#file = file;
    for (const r of regions) this.#region(r);
  }

  /** A store for `regions`, loaded from `file` when given. */
  static async open(regions: readonly string[], accountId: string, file?: StateFile): Promise<KeyStore> {
    const store = new KeyStore(regions, accountId, file);
    const state = (await file?.read()) as Snapshot | undefined;
    if (state) store.#restore(state);
    return store;
  }

  #region(region: string): Map<string, KeyRecord> {
    let m = this.#keys.get(region);
    if (!m) {
      this.#keys.set(region, (m = new Map()));
      this.#aliases.set(region, new Map());
    }
    return m;
  }

  /** True when kms-local serves `region`. */
  serves(region: string): boolean {
    return this.regions.includes(region);
  }

  /** The keys of a region, in creation order. */
  keysIn(region: string): KeyRecord[] {
    return [...(this.#keys.get(region)?.values() ?? [])];
  }

  /** The aliases of a region: name → target key id, in creation order. */
  aliasesIn(region: string): [string, string][] {
    return [...(this.#aliases.get(region)?.entries() ?? [])];
  }

  /** The key with this id in `region`, if any (no alias or ARN resolution). */
  key(region: string, keyId: string): KeyRecord | undefined {
    return this.#keys.get(region)?.get(keyId);
  }

  arn(region: string, keyId: string): string {
    return `arn:aws:kms:${region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(region: string, name: string): string {
    return `arn:aws:kms:${region}:${this.accountId}:${name}`;
  }

  /** Resolves a key id, key ARN, alias name or alias ARN in `region`; NotFoundException otherwise. */
  resolve(region: string, id: string): KeyRecord {
    const direct = this.#byArn.get(id);
    if (direct?.region === region) return direct;
    let ref = id;
    if (id.startsWith('arn:')) {
      const parts = id.split(':');
      // arn:aws:kms:<region>:<account>:key/<id> | alias/<name>
      if (parts.length !== 6 || parts[2] !== 'kms' || !parts[5]) throw notFound(`Invalid arn ${id}`);
      if (parts[3] !== region || parts[4] !== this.accountId) throw notFound(`Invalid arn ${id}`);
      ref = parts[5];
      if (ref.startsWith('key/')) ref = ref.slice(4);
      else if (!ref.startsWith('alias/')) throw notFound(`Invalid arn ${id}`);
    }
    if (ref.startsWith('alias/')) {
      const target = this.#aliases.get(region)?.get(ref);
      if (!target) throw notFound(`Alias ${this.aliasArn(region, ref)}`);
      ref = target;
    }
    const k = this.#keys.get(region)?.get(ref);
    if (!k) throw notFound(`Key '${this.arn(region, ref)}'`);
    return k;
  }

  /** The newest material version of a family (what new ciphertexts use). */
  current(family: string): { version: number; material: Buffer } {
    const v = this.#materials.get(family)!;
    return { version: v.length - 1, material: v[v.length - 1]!.bytes };
  }

  /** One material version of a family, if it exists. */
  material(family: string, version: number): Buffer | undefined {
    return this.#materials.get(family)?.[version]?.bytes;
  }

  /** Creates a symmetric key in `region`. */
  async createKey(region: string, opts: { description: string; multiRegion: boolean }): Promise<KeyRecord> {
    const keyId = opts.multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
    const rec: KeyRecord = {
      keyId,
      arn: this.arn(region, keyId),
      region,
      family: keyId,
      description: opts.description,
      state: 'Enabled',
      created: nowSeconds(),
      multiRegion: opts.multiRegion,
      ...(opts.multiRegion ? { primaryRegion: region } : {}),
      rotationEnabled: false,
    };
    this.#materials.set(keyId, [this.#newMaterial()]);
    this.#add(rec);
    await this.#persist();
    return rec;
  }

  /** Replicates a multi-region primary into `replicaRegion`: same id and material, its own ARN. */
  async replicate(source: KeyRecord, replicaRegion: string): Promise<KeyRecord> {
    if (!source.multiRegion) throw new KmsError('UnsupportedOperationException', `${source.arn} is not a multi-Region key.`);
    if (source.primaryRegion !== source.region)
      throw new KmsError('UnsupportedOperationException', `${source.arn} is not a primary key; replicate the primary.`);
    const keys = this.#region(replicaRegion);
    if (keys.has(source.keyId))
      throw new KmsError('AlreadyExistsException', `Key '${this.arn(replicaRegion, source.keyId)}' already exists.`);
    const { deletionDate: _unused, ...rest } = source;
    const rec: KeyRecord = {
      ...rest,
      arn: this.arn(replicaRegion, source.keyId),
      region: replicaRegion,
      state: 'Enabled',
      created: nowSeconds(),
    };
    this.#add(rec);
    await this.#persist();
    return rec;
  }

  /** Every region's record of a multi-region key (primary and replicas); [] for single-region keys. */
  replicas(k: KeyRecord): KeyRecord[] {
    if (!k.multiRegion) return [];
    return [...this.#keys.values()].map((m) => m.get(k.keyId)).filter((x): x is KeyRecord => x !== undefined);
  }

  /** Adds a material version to the key's family: new ciphertexts use it, old ones still open. */
  async rotate(k: KeyRecord): Promise<number> {
    const versions = this.#materials.get(k.family)!;
    if (versions.length > MAX_MATERIAL_VERSION) throw new KmsError('ValidationException', 'The key has reached its rotation limit.');
    versions.push(this.#newMaterial());
    await this.#persist();
    return versions.length - 1;
  }

  /** Changes a key's record (state, rotation flag, deletion date) and persists it. */
  async update(k: KeyRecord, patch: Partial<Pick<KeyRecord, 'state' | 'rotationEnabled' | 'deletionDate'>>): Promise<void> {
    Object.assign(k, patch);
    // `deletionDate: undefined` clears it (CancelKeyDeletion); keep records free of undefined fields.
    if (k.deletionDate === undefined) delete k.deletionDate;
    await this.#persist();
  }

  /** Creates an alias; AlreadyExistsException when the name is taken in that region. */
  async createAlias(region: string, name: string, target: KeyRecord): Promise<void> {
    const a = this.#aliases.get(region)!;
    if (a.has(name)) throw new KmsError('AlreadyExistsException', `An alias with the name ${this.aliasArn(region, name)} already exists`);
    a.set(name, target.keyId);
    await this.#persist();
  }

  /** Deletes an alias; NotFoundException when there is none. */
  async deleteAlias(region: string, name: string): Promise<void> {
    if (!this.#aliases.get(region)!.delete(name)) throw notFound(`Alias ${this.aliasArn(region, name)}`);
    await this.#persist();
  }

  /** Resolves once every acknowledged change is on disk. */
  async flush(): Promise<void> {
    await this.#file?.flush();
  }

  #add(rec: KeyRecord): void {
    this.#region(rec.region).set(rec.keyId, rec);
    this.#byArn.set(rec.arn, rec);
  }

  #newMaterial(): Material {
    const bytes = randomBytes(MATERIAL_BYTES);
    return this.#file ? { bytes, wrapped: this.#file.wrap(bytes) } : { bytes };
  }

  #persist(): Promise<void> {
    if (!this.#file) return Promise.resolve();
    const snapshot: Snapshot = {
      format: 1,
      keys: [...this.#keys.values()].flatMap((m) => [...m.values()]),
      aliases: [...this.#aliases.entries()].flatMap(([region, m]) => [...m.entries()].map(([name, target]) => ({ region, name, target }))),
      materials: Object.fromEntries([...this.#materials.entries()].map(([f, vs]) => [f, vs.map((v) => v.wrapped!)])),
    };
    return this.#file.write(snapshot);
  }

  #restore(state: Snapshot): void {
    const bad = (what: string): EnvelopeError =>
      new EnvelopeError('ENVELOPE_CONFIG', `kms-local: state.json ${what}; refusing to start over it`);
    if (state.format !== 1 || !Array.isArray(state.keys) || !Array.isArray(state.aliases) || !isRecord(state.materials)) {
      throw bad('has an unknown format');
    }
    // Regions not served this time are kept, so a restart with fewer regions loses nothing.
    // ARNs are derived, not trusted from the file: a restart with another account id renames them.
    for (const k of state.keys) {
      if (!isRecord(k) || typeof k.keyId !== 'string' || typeof k.region !== 'string' || typeof k.family !== 'string')
        throw bad('has a malformed key record');
      this.#add({ ...k, arn: this.arn(k.region, k.keyId) });
    }
    for (const a of state.aliases) {
      if (!isRecord(a) || typeof a.region !== 'string' || typeof a.name !== 'string' || typeof a.target !== 'string')
        throw bad('has a malformed alias');
      this.#region(a.region);
      this.#aliases.get(a.region)!.set(a.name, a.target);
    }
    for (const [family, versions] of Object.entries(state.materials)) {
      if (!Array.isArray(versions) || versions.length === 0) throw bad(`has no key material for ${family}`);
      this.#materials.set(
        family,
        versions.map((wrapped) => ({ bytes: this.#file!.unwrap(wrapped), wrapped })),
      );
    }
    for (const k of this.#byArn.values()) if (!this.#materials.has(k.family)) throw bad(`has no key material for ${k.keyId}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
