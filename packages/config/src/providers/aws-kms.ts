/** `aws-kms`: a generator key and further keys (DESIGN.md "Keyring configuration"). */
import { KmsKeyring } from '@envelope/keyring-kms';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';
import { CLOCK, HEALTH_REGISTRY, KMS_CLIENTS, REGION_PACER } from '../services.js';
import { callOptions, clientFields, clientSecretFields, keyIdOrAliasArn, supplierFor } from './kms-client-settings.js';

export const awsKmsProvider = defineKeyringProvider({
  type: 'aws-kms',
  schema: s.object({
    type: s.literal('aws-kms'),
    keyId: keyIdOrAliasArn,
    additionalKeyIds: s.array(keyIdOrAliasArn).optional(),
    ...clientFields,
  }),
  inject: { kms: KMS_CLIENTS, clock: CLOCK, pacer: REGION_PACER, health: HEALTH_REGISTRY },
  secretFields: clientSecretFields,
  create(c, { kms, clock, pacer, health }) {
    return new KmsKeyring({
      clientSupplier: supplierFor(kms, c),
      clock,
      pacer,
      // The container's breakers: a batch stops calling a dead region after a few failures.
      health,
      generatorKeyId: c.keyId,
      keyIds: c.additionalKeyIds ?? [],
      grantTokens: c.grantTokens,
      ...callOptions(c),
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
