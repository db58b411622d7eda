/** `aws-kms-discovery`: decrypt with any key the filter admits (DESIGN.md "Keyring configuration"). */
import { KmsDiscoveryKeyring } from '@envelope/keyring-kms';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';
import { CLOCK, HEALTH_REGISTRY, KMS_CLIENTS, REGION_PACER } from '../services.js';
import { callOptions, clientFields, clientSecretFields, region, supplierFor } from './kms-client-settings.js';

export const awsKmsDiscoveryProvider = defineKeyringProvider({
  type: 'aws-kms-discovery',
  schema: s.object({
    type: s.literal('aws-kms-discovery'),
    regions: s.array(region, { min: 1, minMessage: 'expected at least one region' }),
    filter: s
      .object({
        partition: s.nonEmpty(),
        accountIds: s.array(
          s.string().refine((v) => /^\d{12}$/.test(v), 'expected a 12-digit account id'),
          { min: 1 },
        ),
      })
      .optional(),
    ...clientFields,
  }),
  inject: { kms: KMS_CLIENTS, clock: CLOCK, pacer: REGION_PACER, health: HEALTH_REGISTRY },
  secretFields: clientSecretFields,
  create(c, { kms, clock, pacer, health }) {
    return new KmsDiscoveryKeyring({
      clientSupplier: supplierFor(kms, c),
      clock,
      pacer,
      // The container's breakers: a batch stops calling a dead region after a few failures.
      health,
      regions: c.regions,
      ...(c.filter ? { discoveryFilter: c.filter } : {}),
      grantTokens: c.grantTokens,
      ...callOptions(c),
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
