/**
 * Real backends for the key-store tests: moto_server (DynamoDB) started on a free port, kms-local
 * (KMS) in process, both over real HTTP with the real AWS SDK clients; plus counting wrappers so
 * tests can assert how many DynamoDB and KMS calls an operation made.
 */
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { kmsClientSupplier, type KmsClient, type KmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { HealthRegistry } from '@envelope/keyring-multi-region';
import { startMotoServer, type MotoServer } from '../../../scripts/moto-server.mjs';
import {
  BranchKeyStore,
  dynamoDbClientSupplier,
  type BranchKeyStoreOptions,
  type DynamoDbClient,
  type DynamoDbClientSupplier,
} from '../src/index.js';

export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface Backends {
  moto: MotoServer;
  kms: KmsLocal;
  regions: string[];
  kmsSupplier: KmsClientSupplier;
  ddbSupplier: DynamoDbClientSupplier;
  /** A new KMS key in `region`; with `replicas`, a multi-region key replicated there (ARNs by region). */
  createKmsKey(region?: string, replicas?: string[]): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startBackends(regions = ['us-east-1', 'us-west-2']): Promise<Backends> {
  const moto = await startMotoServer();
  let kms: KmsLocal;
  try {
    kms = await startKmsLocal({ regions, port: 0 });
  } catch (e) {
    await moto.stop();
    throw e;
  }
  const admin = (r: string) => new KMSClient({ region: r, endpoint: kms.url, credentials: { ...kms.credentials } });
  return {
    moto,
    kms,
    regions,
    kmsSupplier: kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 1000 }),
    ddbSupplier: dynamoDbClientSupplier({ endpoint: moto.url, credentials: MOTO_CREDENTIALS, requestTimeoutMs: 5000 }),
    async createKmsKey(region = regions[0]!, replicas: string[] = []) {
      const c = admin(region);
      const arn = (await c.send(new CreateKeyCommand(replicas.length ? { MultiRegion: true } : {}))).KeyMetadata!.Arn!;
      const out: Record<string, string> = { [region]: arn };
      for (const r of replicas) out[r] = (await c.send(new ReplicateKeyCommand({ KeyId: arn, ReplicaRegion: r }))).ReplicaKeyMetadata!.Arn!;
      c.destroy();
      return out;
    },
    async stop() {
      await Promise.all([kms.close(), moto.stop()]);
    },
  };
}

/** DynamoDB calls by region and operation. */
export type Counts = Record<string, Record<string, number>>;

/** A supplier whose clients count their calls (and can be made to fail per region). */
export function countingDynamoDb(inner: DynamoDbClientSupplier): {
  supplier: DynamoDbClientSupplier;
  counts: Counts;
  total(op?: string): number;
  reset(): void;
} {
  const counts: Counts = {};
  const bump = (region: string, op: string) => {
    counts[region] ??= {};
    counts[region][op] = (counts[region][op] ?? 0) + 1;
  };
  const wrap = (region: string, c: DynamoDbClient): DynamoDbClient => ({
    getItem: (i, s) => (bump(region, 'GetItem'), c.getItem(i, s)),
    transactWriteItems: (i, s) => (bump(region, 'TransactWriteItems'), c.transactWriteItems(i, s)),
    describeTable: (i, s) => (bump(region, 'DescribeTable'), c.describeTable(i, s)),
    createTable: (i, s) => (bump(region, 'CreateTable'), c.createTable(i, s)),
  });
  const cache = new Map<string, DynamoDbClient>();
  return {
    counts,
    supplier: (region) => {
      let c = cache.get(region);
      if (!c) cache.set(region, (c = wrap(region, inner(region))));
      return c;
    },
    total: (op) =>
      Object.values(counts).reduce(
        (n, byOp) => n + Object.entries(byOp).reduce((m, [k, v]) => m + (op === undefined || k === op ? v : 0), 0),
        0,
      ),
    reset: () => {
      for (const k of Object.keys(counts)) delete counts[k];
    },
  };
}

/** KMS operations that reached kms-local, summed over regions (or in one region). */
export function kmsCalls(kms: KmsLocal, op: string, region?: string): number {
  const stats = kms.stats();
  return Object.entries(stats).reduce((n, [r, byOp]) => n + (region === undefined || r === region ? (byOp[op] ?? 0) : 0), 0);
}

let tables = 0;
/** A fresh table name per test (moto keeps tables for the whole run). */
export function tableName(prefix = 'keys'): string {
  return `${prefix}-${process.pid}-${++tables}`;
}

/** A store on the backends with its own health registry (tests must not share breakers). */
export function storeOn(b: Backends, o: Partial<BranchKeyStoreOptions> & { tableName: string; kmsKeyArn: string }): BranchKeyStore {
  return new BranchKeyStore({
    logicalKeyStoreName: o.tableName,
    kms: b.kmsSupplier,
    dynamoDb: b.ddbSupplier,
    health: new HealthRegistry(),
    ...o,
  });
}

export type { KmsClient };
