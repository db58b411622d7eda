/**
 * @envelope/config: keyring configuration — schemas, a registry of keyring types over a service
 * container (built-in types and plugins register the same way; shared services are injected),
 * audit events, and `buildKeyring(config)` / `buildMaterialsManager(config)`.
 *
 * Importing it is cheap: each keyring type's code, the AWS SDK and the caching package load only
 * when a configuration uses them (docs/architecture.md, "Start-up").
 */
export { buildKeyring, buildMaterialsManager, createRegistry } from './build.js';
export type { BuildOptions } from './build.js';
export { splitConfig, auditSectionSchema } from './config-file.js';
export type { SplitConfig, AuditSection } from './config-file.js';
export { readConfigArgument, parseConfigJson } from './config-source.js';
export type { ConfigSource, ReadConfig } from './config-source.js';
export { KeyringRegistry } from './keyring-registry.js';
export type { RegistryOptions, BuildSessionOptions } from './keyring-registry.js';
export { ServiceContainer, serviceToken } from './service-container.js';
export type { ServiceToken, Scope, BindingOptions, ServiceFactory, ServiceResolver } from './service-container.js';
export { ENV, AUDIT_SINK, CLOCK, KMS_CLIENTS, DYNAMODB_CLIENTS, HEALTH_REGISTRY, REGION_PACER, MATERIALS_CACHES } from './services.js';
export type { ClientPool, ClientSettings, KmsClientPool } from './client-pool.js';
export { configModule, defineKeyringProvider, isConfigModule, keyringProviderModule } from './provider.js';
export type {
  ConfigBinder,
  ConfigModule,
  ConfigWarning,
  Injected,
  Injections,
  KeyringContext,
  KeyringDeps,
  KeyringDescription,
  KeyringProvider,
  IamStatement,
} from './provider.js';
export { s } from './schema.js';
export type { Schema, Infer } from './schema.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export { configError, parseAt } from './errors.js';
export { readKeyFile } from './key-file.js';
export {
  auditEvent,
  callbackAuditSink,
  fanOutAuditSink,
  jsonLinesAuditSink,
  jsonLinesFileAuditSink,
  nullAuditSink,
  openTelemetryAuditSink,
} from './audit.js';
export type { AuditEvent, AuditOperation, AuditSink } from './audit.js';
export { AuditingKeyring } from './auditing-keyring.js';
export { MessageAudit, scopedAuditSink } from './message-audit.js';
export { BUILTIN_KEYRING_TYPES, builtinKeyrings } from './builtins.js';
export { cacheSchema } from './cache-section.js';
export type { CacheConfig } from './cache-section.js';
export { buildKeyStore } from './key-store.js';
export type { KeyStoreConfig } from './providers/hierarchical.js';
