/**
 * @envelope/config: zod-validated keyring configuration, an inversify container where keyring
 * providers (built-in and plugin packages) register, audit events, and
 * `buildKeyring(config)` / `buildMaterialsManager(config)`.
 */
export { buildKeyring, buildMaterialsManager, createRegistry, splitConfig } from './build.js';
export type { BuildOptions } from './build.js';
export { KeyringRegistry } from './container.js';
export type { RegistryOptions } from './container.js';
export { KEYRING_PROVIDER, defineKeyringProvider, keyringProviderModule } from './provider.js';
export type { KeyringDeps, KeyringProvider, KeyringDescription, IamStatement } from './provider.js';
export { configError, parseAt } from './errors.js';
export {
  AuditingKeyring,
  auditEvent,
  callbackAuditSink,
  fanOutAuditSink,
  jsonLinesAuditSink,
  nullAuditSink,
  openTelemetryAuditSink,
} from './audit.js';
export type { AuditEvent, AuditOperation, AuditSink } from './audit.js';
export { builtinKeyrings } from './builtins.js';
export { cacheSchema } from './providers/cache.js';
export type { CacheConfig } from './providers/cache.js';
export { keyStoreSchema, buildKeyStore, keyStoreStatements } from './providers/hierarchical.js';
export type { KeyStoreConfig, KeyStoreEnvironment } from './providers/hierarchical.js';
