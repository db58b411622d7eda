/** The built-in keyring types, registered exactly as a plugin registers its own. */
import type { ContainerModule } from 'inversify';
import { keyringProviderModule } from './provider.js';
import { multiProvider, rawAesProvider, rawRsaProvider } from './providers/local.js';
import { awsKmsDiscoveryProvider, awsKmsMultiRegionProvider, awsKmsProvider } from './providers/kms.js';
import { awsKmsHierarchicalProvider } from './providers/hierarchical.js';

export function builtinKeyrings(): ContainerModule {
  return keyringProviderModule(
    rawAesProvider,
    rawRsaProvider,
    multiProvider,
    awsKmsProvider,
    awsKmsDiscoveryProvider,
    awsKmsMultiRegionProvider,
    awsKmsHierarchicalProvider,
  );
}
