/**
 * What the KMS keyring types share: the client settings fields, key identifier checks (with
 * keyring-kms's ARN parser:
 * (spec: framework/aws-kms/aws-kms-key-arn.md#a-valid-aws-kms-arn)) and the supplier taken
 * from the container's client pool.
 */
import { parseArn, parseKeyArn, type Clock, type HealthRegistry, type RegionPacer } from '@envelope/keyring-kms';
import type { KmsClientPool } from '../client-pool.js';
import { s, type Infer } from '../schema.js';
import { CLOCK, HEALTH_REGISTRY, KMS_CLIENTS, REGION_PACER } from '../services.js';

/** A key or alias ARN (`aws-kms` accepts an alias for encrypt). */
export const keyIdOrAliasArn = s.string().refine((v) => parseArn(v) !== undefined, 'expected a key or alias ARN');
/** A key ARN (decrypt needs the key; the multi-region keyring reads the region from it). */
export const keyArn = s.string().refine((v) => parseKeyArn(v) !== undefined, 'expected an ARN');
export const region = s.string().refine((v) => /^[a-z]{2}(-[a-z]+)+-\d$/.test(v), 'expected an AWS region');

/** The client settings fields, spread into each KMS type's schema. */
export const clientFields = {
  endpoint: s
    .string()
    .refine((v) => URL.canParse(v), 'expected a URL')
    .optional(),
  /** Explicit credentials (kms-local); the default is the profile, then the environment, then the SDK's chain. */
  credentials: s.object({ accessKeyId: s.nonEmpty(), secretAccessKey: s.nonEmpty(), sessionToken: s.string().optional() }).optional(),
  /** A profile from the shared AWS config files. */
  profile: s.nonEmpty().optional(),
  requestTimeoutMs: s.int(1).optional(),
  callTimeoutMs: s.int(1).optional(),
  maxRetries: s.int(0, 10).optional(),
  grantTokens: s.array(s.nonEmpty()).optional(),
};

/** Inline credentials are a secret in the configuration file. */
export const clientSecretFields = ['credentials'] as const;

type ClientSettings = Infer<ReturnType<typeof s.object<typeof clientFields>>>;

/** The region → client supplier for these settings, from the container's pool. */
export function supplierFor(pool: KmsClientPool, c: ClientSettings) {
  return pool.supplier({
    endpoint: c.endpoint,
    credentials: c.credentials,
    profile: c.profile,
    requestTimeoutMs: c.requestTimeoutMs,
  });
}

/** Keyring options every KMS type takes from the settings. */
export function callOptions(c: ClientSettings): { callTimeoutMs?: number; maxRetries?: number } {
  return {
    ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
    ...(c.maxRetries !== undefined ? { maxRetries: c.maxRetries } : {}),
  };
}

/** The services a KMS keyring type injects: the client pool and the per-region machinery. */
export const kmsKeyringServices = { kms: KMS_CLIENTS, clock: CLOCK, pacer: REGION_PACER, health: HEALTH_REGISTRY };

/**
 * The options every KMS keyring type (`aws-kms`, `aws-kms-discovery`) takes from its settings and
 * the container: clients from the pool, and the container's clock, pacer and health registry, so
 * that a batch shares one breaker per region and stops calling a dead region after a few failures.
 */
export function kmsKeyringOptions(
  c: ClientSettings,
  services: { kms: KmsClientPool; clock: Clock; pacer: RegionPacer; health: HealthRegistry },
) {
  return {
    clientSupplier: supplierFor(services.kms, c),
    clock: services.clock,
    pacer: services.pacer,
    health: services.health,
    grantTokens: c.grantTokens,
    ...callOptions(c),
  };
}
