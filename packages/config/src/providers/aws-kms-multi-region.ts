/**
 * `aws-kms-multi-region`: the data key under a key in every region (DESIGN.md "Keyring
 * configuration"; the first key is the primary). Region health comes from the container, so
 * every keyring built from one registry shares its breakers.
 */
import { kmsOperations } from '@envelope/keyring-kms';
import { MultiRegionKeyring } from '@envelope/keyring-multi-region';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';
import { AUDIT_SINK, HEALTH_REGISTRY, KMS_CLIENTS, REGION_PACER } from '../services.js';
import { clientFields, clientSecretFields, keyArn, supplierFor } from './kms-client-settings.js';

export const awsKmsMultiRegionProvider = defineKeyringProvider({
  type: 'aws-kms-multi-region',
  schema: s.object({
    type: s.literal('aws-kms-multi-region'),
    keys: s.array(s.object({ keyId: keyArn }), { min: 1, minMessage: 'expected at least one key (the first is the primary)' }),
    encryptPolicy: s
      .union<'all' | 'primary' | { quorum: number }>(
        [s.literal('all'), s.literal('primary'), s.object({ quorum: s.int(1) })],
        'expected "all", "primary" or {"quorum": N}',
      )
      .default('all'),
    hedgeAfterMs: s.int(0).optional(),
    deadlineMs: s.int(1).optional(),
    preferredRegion: s.string().optional(),
    ...clientFields,
  }),
  inject: { kms: KMS_CLIENTS, health: HEALTH_REGISTRY, pacer: REGION_PACER, audit: AUDIT_SINK },
  secretFields: clientSecretFields,
  create(c, { kms, health, pacer, audit }) {
    return new MultiRegionKeyring({
      keys: c.keys,
      kms: kmsOperations(supplierFor(kms, c), { grantTokens: c.grantTokens }),
      health,
      pacer,
      encryptPolicy: c.encryptPolicy,
      ...(c.hedgeAfterMs !== undefined ? { hedgeAfterMs: c.hedgeAfterMs } : {}),
      ...(c.deadlineMs ? { deadlineMs: c.deadlineMs } : {}),
      ...(c.callTimeoutMs ? { callTimeoutMs: c.callTimeoutMs } : {}),
      ...(c.preferredRegion ? { preferredRegion: c.preferredRegion } : {}),
      onEvent: (e) => {
        if (e.type === 'decrypt' && e.failover) {
          audit.emit({
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
          audit.emit({
            time: new Date().toISOString(),
            operation: 'degraded-encrypt',
            keyringType: 'aws-kms-multi-region',
            keyId: c.keys[0]!.keyId,
            outcome: 'success',
            latencyMs: e.latencyMs,
            contextKeys: [],
            missingRegions: e.missingRegions,
          });
        }
      },
    });
  },
  describe: (c) => ({
    label: c.keys[0]!.keyId,
    kms: c.keys.map((k) => ({ keyId: k.keyId, actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'] as const })),
  }),
});
