/**
 * @envelope/keyring-hierarchical: the hierarchical keyring. Branch keys live in a DynamoDB key
 * store (the AWS key-store schema and item encoding), each wrapped by a KMS key; every message's
 * wrapping key is derived locally from a cached branch key, so KMS is called once per branch key
 * per cache TTL. Wire-compatible with the AWS Encryption SDK's `KmsHierarchicalKeyRingNode` and
 * `BranchKeyStoreNode`; reads fail over across multi-region-key / global-table replicas.
 *
 * @example
 * ```ts
 * import { kmsClientSupplier } from '@envelope/keyring-kms';
 * import { BranchKeyStore, HierarchicalKeyring, dynamoDbClientSupplier } from '@envelope/keyring-hierarchical';
 * const keyStore = new BranchKeyStore({ tableName, logicalKeyStoreName: tableName, kmsKeyArn, kms: kmsClientSupplier(), dynamoDb: dynamoDbClientSupplier() });
 * const keyring = new HierarchicalKeyring({ keyStore, branchKeyId, cacheTtlSeconds: 600 });
 * ```
 */
export { HierarchicalKeyring, branchKeyIdFromContext } from './hierarchical-keyring.js';
export type { HierarchicalKeyringOptions, BranchKeyIdSupplier, BranchKeySource } from './hierarchical-keyring.js';
export { BranchKeyStore } from './branch-key-store.js';
export type { BranchKeyStoreOptions, KeyStoreInfo } from './branch-key-store.js';
export { BranchKeyMaterials, BRANCH_KEY_LENGTH } from './branch-key-materials.js';
export { BranchKeyCache, cacheId, ENCRYPT_SCOPE, DECRYPT_SCOPE } from './branch-key-cache.js';
export type { BranchKeyCacheOptions, BranchKeyCacheStats } from './branch-key-cache.js';
export { dynamoDbClientSupplier, fromDynamoDbSdkClient, endpointFromEnv } from './dynamodb-client.js';
export type { DynamoDbClient, DynamoDbClientSupplier, DynamoDbClientSupplierOptions, Item } from './dynamodb-client.js';
export { keyStoreError } from './errors.js';
export type { KeyStoreReason } from './errors.js';
export { PROVIDER_ID, deriveWrappingKey, wrapDataKey, unwrapDataKey, parseWrappedKey } from './wrapping.js';
export type { WrappedKey } from './wrapping.js';
export { hasKeyStoreSchema } from './create-store.js';
