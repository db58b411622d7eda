/**
 * The built-in keyring types, registered exactly as a plugin registers its own: each type's
 * provider (and the packages it needs: the AWS SDK for the KMS types) loads on first use, so
 * a raw-key configuration loads neither the SDK nor the KMS keyrings. Another built-in type is
 * one line here and a provider file in providers/.
 */
import { configModule, type ConfigModule, type KeyringProvider } from './provider.js';

type Loader = () => Promise<KeyringProvider<never, never>>;

export const BUILTIN_KEYRING_TYPES: Readonly<Record<string, Loader>> = {
  'raw-aes': async () => (await import('./providers/raw-aes.js')).rawAesProvider,
  'raw-rsa': async () => (await import('./providers/raw-rsa.js')).rawRsaProvider,
  multi: async () => (await import('./providers/multi.js')).multiProvider,
  'aws-kms': async () => (await import('./providers/aws-kms.js')).awsKmsProvider,
  'aws-kms-discovery': async () => (await import('./providers/aws-kms-discovery.js')).awsKmsDiscoveryProvider,
  'aws-kms-multi-region': async () => (await import('./providers/aws-kms-multi-region.js')).awsKmsMultiRegionProvider,
  'aws-kms-hierarchical': async () => (await import('./providers/hierarchical.js')).awsKmsHierarchicalProvider,
};

/** The module of the built-in types (every registry loads it first). */
export function builtinKeyrings(): ConfigModule {
  return configModule((bind) => {
    for (const [type, load] of Object.entries(BUILTIN_KEYRING_TYPES)) bind.lazyKeyring(type, load);
  });
}
