/**
 * The `aws-kms-hierarchical` keyring type (DESIGN.md "Keyring configuration"), and the key-store
 * configuration that `envelope branch-keys --store` takes:
 *
 *   {"type":"aws-kms-hierarchical","branchKeyId":"<id>" (or "branchKeyIdFrom":"<context key>"),
 *    "keyStore":{"tableName":"…","logicalKeyStoreName":"…","kmsKeyArn":"<arn>"},
 *    "cacheTtlSeconds":600,"cacheLimit":1000}
 *
 * The key store holds every AWS setting (it is what calls DynamoDB and KMS): `kmsEndpoint` and
 * `dynamodbEndpoint` (else `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL_DYNAMODB` /
 * `AWS_ENDPOINT_URL` from the registry's environment), credentials (else the profile, then the
 * environment's, then the SDK's chain), and `replicaRegions` for DR (the table a global table
 * there, the KMS key a multi-region key). Clients come from the container's pools and region
 * health from its health registry, shared with the other keyrings of the registry.
 */
import { parseKeyArn, type Clock } from '@envelope/keyring-kms';
import { BranchKeyStore, HierarchicalKeyring, branchKeyIdFromContext, endpointFromEnv } from '@envelope/keyring-hierarchical';
import type { HealthRegistry } from '@envelope/keyring-multi-region';
import type { DynamoDbClientSupplier } from '@envelope/keyring-hierarchical';
import type { ClientPool, KmsClientPool } from '../client-pool.js';
import { defineKeyringProvider, type IamStatement } from '../provider.js';
import { s, type Infer } from '../schema.js';
import { CLOCK, DYNAMODB_CLIENTS, ENV, HEALTH_REGISTRY, KMS_CLIENTS } from '../services.js';
import type { ServiceResolver } from '../service-container.js';

const region = s.string().refine((v) => /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v), 'expected an AWS region');
const url = s.string().refine((v) => URL.canParse(v), 'expected a URL');

/** A key store: where branch keys live and which KMS key wraps them. */
export const keyStoreSchema = s.object({
  /** DynamoDB table names: 3–255 of letters, digits, `_`, `-`, `.`. */
  tableName: s.string().refine((v) => /^[A-Za-z0-9_.-]{3,255}$/.test(v), 'expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)'),
  logicalKeyStoreName: s.nonEmpty(),
  kmsKeyArn: s.string().refine((v) => !!parseKeyArn(v), 'expected a KMS key ARN (not an alias)'),
  replicaRegions: s.array(region).optional(),
  grantTokens: s.array(s.nonEmpty()).optional(),
  kmsEndpoint: url.optional(),
  dynamodbEndpoint: url.optional(),
  credentials: s.object({ accessKeyId: s.nonEmpty(), secretAccessKey: s.nonEmpty(), sessionToken: s.string().optional() }).optional(),
  /** A profile of the shared AWS config files, given to the SDK clients. */
  profile: s.nonEmpty().optional(),
  /** HTTP request timeout of each DynamoDB and KMS call. */
  requestTimeoutMs: s.int(1).optional(),
  /** Deadline of one attempt of a call. */
  callTimeoutMs: s.int(1).optional(),
  maxRetries: s.int(0, 10).optional(),
  /** Bound on one whole branch key read across regions. */
  deadlineMs: s.int(1).optional(),
  hedgeAfterMs: s.int(0).optional(),
});
export type KeyStoreConfig = Infer<typeof keyStoreSchema>;

const schema = s
  .object({
    type: s.literal('aws-kms-hierarchical'),
    branchKeyId: s.nonEmpty().optional(),
    branchKeyIdFrom: s.nonEmpty().optional(),
    keyStore: keyStoreSchema,
    cacheTtlSeconds: s
      .number()
      .refine((v) => v > 0, 'expected a positive number')
      .default(600),
    cacheLimit: s.int(1).default(1000),
    partitionId: s.nonEmpty().optional(),
  })
  .refine(
    (c) => (c.branchKeyId === undefined) !== (c.branchKeyIdFrom === undefined),
    'give exactly one of branchKeyId or branchKeyIdFrom',
    ['branchKeyId'],
  );

/** The shared services a key store uses. */
interface KeyStoreServices {
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly kms: KmsClientPool;
  readonly dynamoDb: ClientPool<DynamoDbClientSupplier>;
  readonly health: HealthRegistry;
}

/** Builds a {@link BranchKeyStore} from a validated key-store configuration and the container's services. */
export function keyStoreFrom(c: KeyStoreConfig, services: KeyStoreServices): BranchKeyStore {
  const settings = { credentials: c.credentials, profile: c.profile, requestTimeoutMs: c.requestTimeoutMs };
  return new BranchKeyStore({
    tableName: c.tableName,
    logicalKeyStoreName: c.logicalKeyStoreName,
    kmsKeyArn: c.kmsKeyArn,
    replicaRegions: c.replicaRegions,
    grantTokens: c.grantTokens,
    kms: services.kms.supplier({ ...settings, endpoint: c.kmsEndpoint ?? endpointFromEnv(services.env, 'KMS') }),
    dynamoDb: services.dynamoDb.supplier({ ...settings, endpoint: c.dynamodbEndpoint ?? endpointFromEnv(services.env, 'DYNAMODB') }),
    health: services.health,
    clock: services.clock,
    ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
    ...(c.maxRetries !== undefined ? { maxRetries: c.maxRetries } : {}),
    ...(c.deadlineMs ? { deadlineMs: c.deadlineMs } : {}),
    ...(c.hedgeAfterMs !== undefined ? { hedgeAfterMs: c.hedgeAfterMs } : {}),
  });
}

/** The services of {@link keyStoreFrom}, resolved from a container (for `buildKeyStore`). */
export async function keyStoreServices(c: ServiceResolver): Promise<KeyStoreServices> {
  const [env, kms, dynamoDb, health, clock] = await Promise.all([
    c.get(ENV),
    c.get(KMS_CLIENTS),
    c.get(DYNAMODB_CLIENTS),
    c.get(HEALTH_REGISTRY),
    c.get(CLOCK),
  ]);
  return { env, kms, dynamoDb, health, clock };
}

/**
 * Least privilege for using (not administering) a store: GetItem on its table in each region,
 * and Decrypt with its KMS key (each replica) only under that logical store's context.
 */
export function keyStoreStatements(c: KeyStoreConfig): IamStatement[] {
  const key = parseKeyArn(c.kmsKeyArn)!;
  const regions = [key.region, ...(c.replicaRegions ?? [])];
  return [
    {
      sid: 'ReadBranchKeys',
      actions: ['dynamodb:GetItem'],
      resources: regions.map((r) => `arn:${key.partition}:dynamodb:${r}:${key.account}:table/${c.tableName}`),
    },
    {
      sid: 'UnwrapBranchKeys',
      actions: ['kms:Decrypt'],
      resources: regions.map((r) => `arn:${key.partition}:kms:${r}:${key.account}:key/${key.resourceId}`),
      condition: { StringEquals: { 'kms:EncryptionContext:tablename': c.logicalKeyStoreName } },
    },
  ];
}

export const awsKmsHierarchicalProvider = defineKeyringProvider({
  type: 'aws-kms-hierarchical',
  schema,
  inject: { kms: KMS_CLIENTS, dynamoDb: DYNAMODB_CLIENTS, health: HEALTH_REGISTRY, clock: CLOCK },
  secretFields: ['keyStore.credentials'],
  create(c, deps) {
    const keyStore = keyStoreFrom(c.keyStore, deps);
    return new HierarchicalKeyring({
      keyStore,
      ...(c.branchKeyId !== undefined
        ? { branchKeyId: c.branchKeyId }
        : { branchKeyIdSupplier: branchKeyIdFromContext(c.branchKeyIdFrom!) }),
      cacheTtlSeconds: c.cacheTtlSeconds,
      cacheLimit: c.cacheLimit,
      ...(c.partitionId ? { partitionId: c.partitionId } : {}),
      now: () => deps.clock.now(),
    });
  },
  describe: (c) => ({
    label: `${c.keyStore.logicalKeyStoreName}/${c.branchKeyId ?? `<${c.branchKeyIdFrom}>`}`,
    iam: keyStoreStatements(c.keyStore),
  }),
});
