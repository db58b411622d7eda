/**
 * `buildKeyStore(config)`: a branch key store from a key-store configuration (what `envelope
 * branch-keys --store` takes), with the same client pools and health registry as the keyrings of
 * the registry. The hierarchical provider and the DynamoDB SDK load only when it is called.
 */
import type { BranchKeyStore } from '@envelope/keyring-hierarchical';
import { createRegistry } from './build.js';
import { parseAt } from './errors.js';
import type { KeyringRegistry, RegistryOptions } from './keyring-registry.js';

/**
 * Validates a key-store configuration (errors name `at`) and builds its store.
 *
 * @example
 * ```ts
 * const store = await buildKeyStore({ tableName: 'keys', logicalKeyStoreName: 'keys', kmsKeyArn }, { env: process.env });
 * await store.createStore();
 * ```
 */
export async function buildKeyStore(
  config: unknown,
  options: RegistryOptions & { registry?: KeyringRegistry; at?: string } = {},
): Promise<BranchKeyStore> {
  const { keyStoreSchema, keyStoreFrom, keyStoreServices } = await import('./providers/hierarchical.js');
  const c = parseAt(keyStoreSchema, config, options.at ?? 'keyStore');
  const registry = options.registry ?? createRegistry(options);
  return keyStoreFrom(c, await keyStoreServices(registry.services));
}
