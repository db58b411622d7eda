/** `aws-kms-discovery`: decrypt with any key the filter admits (DESIGN.md "Keyring configuration"). */
import { KmsDiscoveryKeyring } from '@envelope/keyring-kms';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';
import { clientFields, clientSecretFields, kmsKeyringOptions, kmsKeyringServices, region } from './kms-client-settings.js';

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
  inject: kmsKeyringServices,
  secretFields: clientSecretFields,
  create(c, services) {
    return new KmsDiscoveryKeyring({
      ...kmsKeyringOptions(c, services),
      regions: c.regions,
      ...(c.filter ? { discoveryFilter: c.filter } : {}),
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
