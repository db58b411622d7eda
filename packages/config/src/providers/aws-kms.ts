/** `aws-kms`: a generator key and further keys (DESIGN.md "Keyring configuration"). */
import { KmsKeyring } from '@envelope/keyring-kms';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';
import { clientFields, clientSecretFields, keyIdOrAliasArn, kmsKeyringOptions, kmsKeyringServices } from './kms-client-settings.js';

export const awsKmsProvider = defineKeyringProvider({
  type: 'aws-kms',
  schema: s.object({
    type: s.literal('aws-kms'),
    keyId: keyIdOrAliasArn,
    additionalKeyIds: s.array(keyIdOrAliasArn).optional(),
    ...clientFields,
  }),
  inject: kmsKeyringServices,
  secretFields: clientSecretFields,
  create(c, services) {
    return new KmsKeyring({ ...kmsKeyringOptions(c, services), generatorKeyId: c.keyId, keyIds: c.additionalKeyIds ?? [] });
  },
  describe: (c) => ({
    label: c.keyId,
    kms: [
      { keyId: c.keyId, actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'] },
      ...(c.additionalKeyIds ?? []).map((k) => ({ keyId: k, actions: ['kms:Encrypt', 'kms:Decrypt'] as const })),
    ],
  }),
});
