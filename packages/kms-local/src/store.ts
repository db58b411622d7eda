/**
 * Keys, aliases and key material, per region; persisted atomically (temp file, fsync, rename,
 * fsync the directory) with key material wrapped under a root key kept in the data directory.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KmsError, notFound } from './errors.js';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KeyRecord {
  keyId: string;
  arn: string;
  region: string;
  /** Material family: the key id (shared by mrk replicas). */
  family: string;
  description: string;
  state: KeyState;
  created: number;
  multiRegion: boolean;
  /** For multi-region keys: the primary's region. */
  primaryRegion?: string;
  rotationEnabled: boolean;
  deletionDate?: number;
}

interface Persisted {
  keys: KeyRecord[];
  aliases: { region: string; name: string; target: string }[];
  /** family → wrapped material versions (base64). */
  materials: Record<string, string[]>;
}

export class KeyStore {
  readonly keys = new Map<string, Map<string, KeyRecord>>(); // region → keyId → record
  readonly aliases = new Map<string, Map<string, string>>(); // region → alias name → keyId
  readonly #materials = new Map<string, Buffer[]>(); // family → versions
  #rootKey: Buffer | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    readonly regions: readonly string[],
    readonly accountId: string,
    readonly dataDir?: string,
  ) {
    for (const r of regions) {
      this.keys.set(r, new Map());
      this.aliases.set(r, new Map());
    }
  }

  regionKeys(region: string): Map<string, KeyRecord> {
    const m = this.keys.get(region);
    if (!m) throw new KmsError('UnrecognizedClientException', `kms-local does not serve region ${region}`);
    return m;
  }

  arn(region: string, keyId: string): string {
    return `arn:aws:kms:${region}:${this.accountId}:key/${keyId}`;
  }

  /** Resolves a key id, key ARN, alias name or alias ARN in `region`. */
  resolve(region: string, id: string | undefined): KeyRecord {
    if (!id) throw new KmsError('ValidationException', 'KeyId is required.');
    const keys = this.regionKeys(region);
    let keyId = id;
    if (id.startsWith('arn:')) {
      const parts = id.split(':');
      if (parts.length !== 6 || parts[2] !== 'kms') throw notFound(`Invalid arn ${id}`);
      if (parts[3] !== region) throw notFound(`Key '${id}'`);
      keyId = parts[5]!;
    }
    if (keyId.startsWith('key/')) keyId = keyId.slice(4);
    if (keyId.startsWith('alias/')) {
      const target = this.aliases.get(region)!.get(keyId);
      if (!target) throw notFound(`Alias ${this.aliasArn(region, keyId)}`);
      keyId = target;
    }
    const k = keys.get(keyId);
    if (!k) throw notFound(`Key '${this.arn(region, keyId)}'`);
    return k;
  }

  aliasArn(region: string, name: string): string {
    return `arn:aws:kms:${region}:${this.accountId}:${name}`;
  }

  /** Current material (version, bytes) of a family. */
  current(family: string): { version: number; material: Buffer } {
    const v = this.#materials.get(family)!;
    return { version: v.length - 1, material: v[v.length - 1]! };
  }

  material(family: string, version: number): Buffer | undefined {
    return this.#materials.get(family)?.[version];
  }

  async createKey(region: string, opts: { description?: string; multiRegion?: boolean }): Promise<KeyRecord> {
    const keys = this.regionKeys(region);
    const keyId = opts.multiRegion ? `mrk-${randomUUID().replace(/-/g, '')}` : randomUUID();
    const rec: KeyRecord = {
      keyId,
      arn: this.arn(region, keyId),
      region,
      family: keyId,
      description: opts.description ?? '',
      state: 'Enabled',
      created: Math.floor(Date.now() / 1000),
      multiRegion: opts.multiRegion === true,
      ...(opts.multiRegion ? { primaryRegion: region } : {}),
      rotationEnabled: false,
    };
    this.#materials.set(keyId, [randomBytes(32)]);
    keys.set(keyId, rec);
    await this.persist();
    return rec;
  }

  async replicate(source: KeyRecord, replicaRegion: string): Promise<KeyRecord> {
    if (!source.multiRegion) throw new KmsError('UnsupportedOperationException', `${source.arn} is not a multi-Region key.`);
    if (source.primaryRegion !== source.region) throw new KmsError('UnsupportedOperationException', 'ReplicateKey needs the primary key.');
    const keys = this.regionKeys(replicaRegion);
    if (keys.has(source.keyId)) throw new KmsError('AlreadyExistsException', `A replica of ${source.keyId} already exists in ${replicaRegion}.`);
    const rec: KeyRecord = { ...source, arn: this.arn(replicaRegion, source.keyId), region: replicaRegion, created: Math.floor(Date.now() / 1000) };
    keys.set(source.keyId, rec);
    await this.persist();
    return rec;
  }

  replicas(k: KeyRecord): KeyRecord[] {
    if (!k.multiRegion) return [];
    return this.regions.map((r) => this.keys.get(r)!.get(k.keyId)).filter((x): x is KeyRecord => !!x);
  }

  async rotate(k: KeyRecord): Promise<void> {
    this.#materials.get(k.family)!.push(randomBytes(32));
    await this.persist();
  }

  async update(k: KeyRecord, patch: Partial<KeyRecord>): Promise<void> {
    Object.assign(k, patch);
    await this.persist();
  }

  async createAlias(region: string, name: string, target: KeyRecord): Promise<void> {
    const a = this.aliases.get(region)!;
    if (a.has(name)) throw new KmsError('AlreadyExistsException', `An alias with the name ${this.aliasArn(region, name)} already exists`);
    a.set(name, target.keyId);
    await this.persist();
  }

  // ------------------------------------------------------------------ persistence

  #file(): string {
    return path.join(this.dataDir!, 'state.json');
  }

  /** Loads state from the data directory (creating the root key on first use). */
  async load(): Promise<void> {
    if (!this.dataDir) return;
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const rootFile = path.join(this.dataDir, 'root.key');
    try {
      this.#rootKey = await readFile(rootFile);
    } catch {
      this.#rootKey = randomBytes(32);
      await writeFile(rootFile, this.#rootKey, { mode: 0o600, flag: 'wx' });
    }
    let state: Persisted;
    try {
      state = JSON.parse(await readFile(this.#file(), 'utf8')) as Persisted;
    } catch {
      return;
    }
    for (const k of state.keys) {
      if (!this.keys.has(k.region)) {
        this.keys.set(k.region, new Map());
        this.aliases.set(k.region, new Map());
      }
      this.keys.get(k.region)!.set(k.keyId, k);
    }
    for (const a of state.aliases) this.aliases.get(a.region)?.set(a.name, a.target);
    for (const [family, versions] of Object.entries(state.materials)) this.#materials.set(family, versions.map((v) => this.#unwrap(Buffer.from(v, 'base64'))));
  }

  /** Writes the whole state atomically; resolves once it is durable. Writes are serialized. */
  persist(): Promise<void> {
    if (!this.dataDir) return Promise.resolve();
    const snapshot: Persisted = {
      keys: [...this.keys.values()].flatMap((m) => [...m.values()]),
      aliases: [...this.aliases.entries()].flatMap(([region, m]) => [...m.entries()].map(([name, target]) => ({ region, name, target }))),
      materials: Object.fromEntries([...this.#materials.entries()].map(([f, vs]) => [f, vs.map((v) => this.#wrap(v).toString('base64'))])),
    };
    const run = async (): Promise<void> => {
      const tmp = `${this.#file()}.${process.pid}.tmp`;
      const h = await open(tmp, 'w', 0o600);
      try {
        await h.writeFile(JSON.stringify(snapshot));
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(tmp, this.#file());
      const d = await open(this.dataDir!, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    };
    this.#writing = this.#writing.then(run, run);
    return this.#writing;
  }

  #wrap(material: Buffer): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#rootKey!, iv);
    return Buffer.concat([iv, c.update(material), c.final(), c.getAuthTag()]);
  }

  #unwrap(b: Buffer): Buffer {
    const d = createDecipheriv('aes-256-gcm', this.#rootKey!, b.subarray(0, 12));
    d.setAuthTag(b.subarray(b.byteLength - 16));
    return Buffer.concat([d.update(b.subarray(12, b.byteLength - 16)), d.final()]);
  }
}
