/**
 * KMS keyring types (DESIGN.md "Keyring configuration"): aws-kms, aws-kms-discovery,
 * aws-kms-multi-region. Clients come from one shared supplier per endpoint/credentials/timeout
 * setting; credentials come from the usual AWS chain (environment variables first) unless given.
 */
import { z } from 'zod';
import {
  KmsDiscoveryKeyring,
  KmsKeyring,
  kmsClientSupplier,
  kmsOperations,
  parseArn,
  parseKeyArn,
  type KmsClientSupplier,
} from '@envelope/keyring-kms';
import { MultiRegionKeyring } from '@envelope/keyring-multi-region';
import { defineKeyringProvider, type KeyringDeps } from '../provider.js';

const arnRegex = /^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key\/.+$/;
const keyArn = z.string().regex(arnRegex, 'expected an ARN');
const keyIdOrAlias = z.string().refine((s) => !!parseArn(s), { message: 'expected a key or alias ARN' });

/** KMS client settings shared by the KMS types. */
const client = {
  endpoint: z.string().url('expected a URL').optional(),
  /** Named credentials from the environment are the default; explicit ones for kms-local. */
  credentials: z
    .strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() })
    .optional(),
  /** A profile from ~/.aws/config (sets AWS_PROFILE for the SDK's credential chain). */
  profile: z.string().min(1).optional(),
  requestTimeoutMs: z.number().int().positive().optional(),
  callTimeoutMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  grantTokens: z.array(z.string().min(1)).optional(),
};

function supplier(
  deps: KeyringDeps,
  c: {
    endpoint?: string | undefined;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
    profile?: string | undefined;
    requestTimeoutMs?: number | undefined;
  },
): KmsClientSupplier {
  if (c.profile) process.env.AWS_PROFILE ??= c.profile;
  const credentials = c.credentials ?? envCredentials(deps.env, c.endpoint);
  const id = JSON.stringify([c.endpoint, credentials?.accessKeyId, c.requestTimeoutMs]);
  return deps.service(`kms-client-supplier:${id}`, () =>
    kmsClientSupplier({
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      ...(c.requestTimeoutMs ? { requestTimeoutMs: c.requestTimeoutMs } : {}),
    }),
  );
}

/** The environment's static credentials, when the configuration's env (not process.env) has them. */
function envCredentials(
  env: NodeJS.ProcessEnv,
  endpoint: string | undefined,
): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  void endpoint;
  return undefined;
}

export const awsKmsProvider = defineKeyringProvider({
  type: 'aws-kms',
  schema: z.strictObject({
    type: z.literal('aws-kms'),
    keyId: keyIdOrAlias,
    additionalKeyIds: z.array(keyIdOrAlias).optional(),
    ...client,
  }),
  create(c, deps) {
    return new KmsKeyring({
      clientSupplier: supplier(deps, c),
      generatorKeyId: c.keyId,
      keyIds: c.additionalKeyIds ?? [],
      grantTokens: c.grantTokens,
      ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
      ...(c.maxRetries !== undefined ? { maxRetries: c.maxRetries } : {}),
    });
  },
  describe: (c) => ({
    label: c.keyId,
    kms: [
      { keyId: c.keyId, actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'] },
      ...(c.additionalKeyIds ?? []).map((k) => ({ keyId: k, actions: ['kms:Encrypt', 'kms:Decrypt'] as const })),
    ],
  }),
});

export const awsKmsDiscoveryProvider = defineKeyringProvider({
  type: 'aws-kms-discovery',
  schema: z.strictObject({
    type: z.literal('aws-kms-discovery'),
    regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region')).min(1, 'expected at least one region'),
    filter: z
      .strictObject({
        partition: z.string().min(1),
        accountIds: z.array(z.string().regex(/^\d{12}$/, 'expected a 12-digit account id')).min(1),
      })
      .optional(),
    ...client,
  }),
  create(c, deps) {
    return new KmsDiscoveryKeyring({
      clientSupplier: supplier(deps, c),
      regions: c.regions,
      ...(c.filter ? { discoveryFilter: c.filter } : {}),
      grantTokens: c.grantTokens,
      ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
      ...(c.maxRetries !== undefined ? { maxRetries: c.maxRetries } : {}),
    });
  },
  describe: (c) => ({
    label: `discovery:${c.regions.join(',')}`,
    kms: c.regions.flatMap((r) =>
      (c.filter?.accountIds ?? ['*']).map((a) => ({
        keyId: `arn:${c.filter?.partition ?? 'aws'}:kms:${r}:${a}:key/*`,
        actions: ['kms:Decrypt'] as const,
      })),
    ),
  }),
});

export const awsKmsMultiRegionProvider = defineKeyringProvider({
  type: 'aws-kms-multi-region',
  schema: z.strictObject({
    type: z.literal('aws-kms-multi-region'),
    keys: z.array(z.strictObject({ keyId: keyArn })).min(1, 'expected at least one key (the first is the primary)'),
    encryptPolicy: z.union([z.literal('all'), z.literal('primary'), z.strictObject({ quorum: z.number().int().min(1) })]).default('all'),
    hedgeAfterMs: z.number().int().min(0).optional(),
    deadlineMs: z.number().int().positive().optional(),
    preferredRegion: z.string().optional(),
    ...client,
  }),
  create(c, deps) {
    return new MultiRegionKeyring({
      keys: c.keys,
      kms: kmsOperations(supplier(deps, c), { grantTokens: c.grantTokens }),
      encryptPolicy: c.encryptPolicy,
      ...(c.hedgeAfterMs !== undefined ? { hedgeAfterMs: c.hedgeAfterMs } : {}),
      ...(c.deadlineMs ? { deadlineMs: c.deadlineMs } : {}),
      ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
      ...(c.preferredRegion ? { preferredRegion: c.preferredRegion } : {}),
      onEvent: (e) => {
        if (e.type === 'decrypt' && e.failover) {
          deps.audit.emit({
            time: new Date().toISOString(),
            operation: 'failover',
            keyringType: 'aws-kms-multi-region',
            keyId: e.keyArn,
            region: e.region,
            outcome: 'success',
            latencyMs: e.latencyMs,
            contextKeys: [],
            details: { attempts: e.attempts },
          });
        } else if (e.type === 'encrypt' && e.outcome === 'degraded') {
          deps.audit.emit({
            time: new Date().toISOString(),
            operation: 'degraded-encrypt',
            keyringType: 'aws-kms-multi-region',
            outcome: 'success',
            latencyMs: e.latencyMs,
            contextKeys: [],
            details: { missingRegions: e.missingRegions },
          });
        }
      },
    });
  },
  describe: (c) => ({
    label: c.keys[0]!.keyId,
    kms: c.keys.map((k, i) => ({
      keyId: k.keyId,
      actions: (i === 0
        ? ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt']
        : ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt']) as ('kms:GenerateDataKey' | 'kms:Encrypt' | 'kms:Decrypt')[],
    })),
  }),
});

export { parseKeyArn };
