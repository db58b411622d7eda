/**
 * `buildKeyring(config)` / `buildMaterialsManager(config)` for application code.
 *
 * A configuration is either a keyring object (`{"type": …}`), optionally with `"plugins"` and
 * `"cache"` beside `type`, or the file form
 * `{"plugins": [...], "keyring": {...}, "cache": {...}, "audit": {"file": ...}}`.
 */
import { DefaultMaterialsManager, type Keyring, type MaterialsManager } from '@envelope/core';
import { jsonLinesFileAuditSink } from './audit.js';
import { builtinKeyrings } from './builtins.js';
import { cacheSchema, wrapWithCache } from './cache-section.js';
import { splitConfig, type SplitConfig } from './config-file.js';
import type { ConfigSource } from './config-source.js';
import { parseAt } from './errors.js';
import { KeyringRegistry, type RegistryOptions } from './keyring-registry.js';
import { AUDIT_SINK, MATERIALS_CACHES } from './services.js';

export interface BuildOptions extends RegistryOptions {
  /**
   * A registry to reuse (its plugins loaded, its services shared); by default a new one with the
   * built-ins and these options. With a registry, `baseDir` and `source` still apply to this
   * configuration; the registry's other options stand.
   */
  registry?: KeyringRegistry;
  /** The file the configuration was read from (`readConfigArgument().source`): enables the inline-key warning. */
  source?: ConfigSource | undefined;
}

/** A registry with the built-in keyring types. */
export function createRegistry(options: RegistryOptions = {}): KeyringRegistry {
  return new KeyringRegistry(options).load(builtinKeyrings());
}

/** The registry for a configuration: the given one or a new one, with the file's audit sink and plugins. */
async function registryFor(s: SplitConfig, options: BuildOptions): Promise<KeyringRegistry> {
  const registry = options.registry ?? createRegistry(options);
  const audit = s.audit;
  if (audit) {
    const baseDir = options.baseDir ?? registry.baseDir;
    registry.addAuditSink(() => jsonLinesFileAuditSink(audit.file, { baseDir, includeContextValues: audit.includeContextValues }));
  }
  if (s.plugins.length) await registry.loadPlugins(s.plugins, 'plugins', options.baseDir);
  return registry;
}

/**
 * Builds the keyring a configuration describes.
 *
 * @example
 * ```ts
 * const keyring = await buildKeyring({ type: 'raw-aes', namespace: 'app', name: 'k1', key: process.env.KEY_B64 });
 * ```
 */
export async function buildKeyring(config: unknown, options: BuildOptions = {}): Promise<Keyring> {
  const s = splitConfig(config);
  // A keyring has no use for the cache section, but a typo in it is still an error.
  if (s.cache !== undefined) parseAt(cacheSchema, s.cache, 'cache');
  const registry = await registryFor(s, options);
  return registry.build(s.keyring, s.keyringPath, { source: options.source, baseDir: options.baseDir });
}

/**
 * Builds a materials manager: the keyring in a default manager, or, with `"cache"`, in a
 * caching manager (whose cache comes from the registry's `MATERIALS_CACHES` service).
 */
export async function buildMaterialsManager(config: unknown, options: BuildOptions = {}): Promise<MaterialsManager> {
  const s = splitConfig(config);
  const cache = s.cache === undefined ? undefined : parseAt(cacheSchema, s.cache, 'cache');
  const registry = await registryFor(s, options);
  const keyring = await registry.build(s.keyring, s.keyringPath, { source: options.source, baseDir: options.baseDir });
  if (cache === undefined) return new DefaultMaterialsManager(keyring);
  const caches = await registry.get(MATERIALS_CACHES);
  return wrapWithCache(keyring, cache, await registry.get(AUDIT_SINK), caches.create(cache.capacity));
}
