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
 * `AWS_ENDPOINT_URL` from the environment), credentials (else the SDK's chain), and
 * `replicaRegions` for DR (the table a global table there, the KMS key a multi-region key).
 * @envelope/keyring-hierarchical and the DynamoDB SDK load only when a keyring or store is built.
 */
import { z } from 'zod';
import { parseKeyArn } from '@envelope/keyring-kms';
import type { BranchKeyStore } from '@envelope/keyring-hierarchical';
import { sharedHealthRegistry } from '@envelope/keyring-multi-region';
import { defineKeyringProvider, type IamStatement } from '../provider.js';

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'expected an AWS region');

/** A key store: where branch keys live and which KMS key wraps them. */
export const keyStoreSchema = z.strictObject({
  /** DynamoDB table names: 3–255 of letters, digits, `_`, `-`, `.`. */
  tableName: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)'),
  logicalKeyStoreName: z.string().min(1),
  kmsKeyArn: z.string().refine((s) => !!parseKeyArn(s), { message: 'expected a KMS key ARN (not an alias)' }),
  replicaRegions: z.array(region).optional(),
  grantTokens: z.array(z.string().min(1)).optional(),
  kmsEndpoint: z.string().url('expected a URL').optional(),
  dynamodbEndpoint: z.string().url('expected a URL').optional(),
  credentials: z
    .strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() })
    .optional(),
  /** A profile from ~/.aws/config (sets AWS_PROFILE for the SDK's credential chain). */
  profile: z.string().min(1).optional(),
  /** HTTP request timeout of each DynamoDB and KMS call. */
  requestTimeoutMs: z.number().int().positive().optional(),
  /** Deadline of one attempt of a call. */
  callTimeoutMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  /** Bound on one whole branch key read across regions. */
  deadlineMs: z.number().int().positive().optional(),
  hedgeAfterMs: z.number().int().min(0).optional(),
});
export type KeyStoreConfig = z.infer<typeof keyStoreSchema>;

const schema = z
  .strictObject({
    type: z.literal('aws-kms-hierarchical'),
    branchKeyId: z.string().min(1).optional(),
    branchKeyIdFrom: z.string().min(1).optional(),
    keyStore: keyStoreSchema,
    cacheTtlSeconds: z.number().positive().default(600),
    cacheLimit: z.number().int().min(1).default(1000),
    partitionId: z.string().min(1).optional(),
  })
  .refine((c) => (c.branchKeyId === undefined) !== (c.branchKeyIdFrom === undefined), {
    message: 'give exactly one of branchKeyId or branchKeyIdFrom',
    path: ['branchKeyId'],
  });

/** What building a store needs from its surroundings (the container's deps, or the CLI's). */
export interface KeyStoreEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** Shared services by name (KMS and DynamoDB client pools), made once. */
  service<T>(name: string, make: () => T): T;
}

/**
 * Builds a {@link BranchKeyStore} from a key-store configuration, with client suppliers shared per
 * endpoint and credentials, and the process-wide region health registry.
 *
 * @example
 * ```ts
 * const store = await buildKeyStore({ tableName: 'keys', logicalKeyStoreName: 'keys', kmsKeyArn }, { env: process.env, service: (_, make) => make() });
 * ```
 */
export async function buildKeyStore(c: KeyStoreConfig, deps: KeyStoreEnvironment): Promise<BranchKeyStore> {
  const [{ BranchKeyStore, dynamoDbClientSupplier, endpointFromEnv }, { kmsClientSupplier }] = await Promise.all([
    import('@envelope/keyring-hierarchical'),
    import('@envelope/keyring-kms'),
  ]);
  if (c.profile) process.env.AWS_PROFILE ??= c.profile;
  const credentials = c.credentials ?? envCredentials(deps.env);
  const kmsEndpoint = c.kmsEndpoint ?? endpointFromEnv(deps.env, 'KMS');
  const ddbEndpoint = c.dynamodbEndpoint ?? endpointFromEnv(deps.env, 'DYNAMODB');
  const timeouts = c.requestTimeoutMs ? { requestTimeoutMs: c.requestTimeoutMs } : {};
  // Same service name as the other KMS types: one client pool per endpoint, credentials, timeout.
  const kms = deps.service(`kms-client-supplier:${JSON.stringify([kmsEndpoint, credentials?.accessKeyId, c.requestTimeoutMs])}`, () =>
    kmsClientSupplier({ ...(kmsEndpoint ? { endpoint: kmsEndpoint } : {}), ...(credentials ? { credentials } : {}), ...timeouts }),
  );
  const dynamoDb = deps.service(
    `dynamodb-client-supplier:${JSON.stringify([ddbEndpoint, credentials?.accessKeyId, c.requestTimeoutMs])}`,
    () => dynamoDbClientSupplier({ endpoint: ddbEndpoint, credentials, ...timeouts }),
  );
  return new BranchKeyStore({
    tableName: c.tableName,
    logicalKeyStoreName: c.logicalKeyStoreName,
    kmsKeyArn: c.kmsKeyArn,
    replicaRegions: c.replicaRegions,
    grantTokens: c.grantTokens,
    kms,
    dynamoDb,
    health: sharedHealthRegistry(),
    ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
    ...(c.maxRetries !== undefined ? { maxRetries: c.maxRetries } : {}),
    ...(c.deadlineMs ? { deadlineMs: c.deadlineMs } : {}),
    ...(c.hedgeAfterMs !== undefined ? { hedgeAfterMs: c.hedgeAfterMs } : {}),
  });
}

/** The environment's static credentials, when the configuration's env (not process.env) has them. */
function envCredentials(env: NodeJS.ProcessEnv): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
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
  async create(c, deps) {
    const [{ HierarchicalKeyring, branchKeyIdFromContext }, keyStore] = await Promise.all([
      import('@envelope/keyring-hierarchical'),
      buildKeyStore(c.keyStore, deps),
    ]);
    return new HierarchicalKeyring({
      keyStore,
      ...(c.branchKeyId !== undefined
        ? { branchKeyId: c.branchKeyId }
        : { branchKeyIdSupplier: branchKeyIdFromContext(c.branchKeyIdFrom!) }),
      cacheTtlSeconds: c.cacheTtlSeconds,
      cacheLimit: c.cacheLimit,
      ...(c.partitionId ? { partitionId: c.partitionId } : {}),
      now: deps.now,
    });
  },
  describe: (c) => ({
    label: `${c.keyStore.logicalKeyStoreName}/${c.branchKeyId ?? `<${c.branchKeyIdFrom}>`}`,
    iam: keyStoreStatements(c.keyStore),
  }),
});
