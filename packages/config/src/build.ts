/**
 * `buildKeyring(config)` / `buildMaterialsManager(config)` for application code.
 *
 * A configuration is either a keyring object (`{"type": …}`), optionally with `"plugins"` at
 * the top, or a file form `{ "plugins": [...], "keyring": {...}, "cache": {...} }`.
 */
import { z } from 'zod';
import { DefaultMaterialsManager, type Keyring, type MaterialsManager } from '@envelope/core';
import { parseAt } from './errors.js';
import { KeyringRegistry, type RegistryOptions } from './container.js';
import { builtinKeyrings } from './builtins.js';
import { cacheSchema, wrapWithCache } from './providers/cache.js';

const fileSchema = z.looseObject({
  plugins: z.array(z.string().min(1)).optional(),
  keyring: z.unknown().optional(),
  cache: z.unknown().optional(),
});

export interface BuildOptions extends RegistryOptions {
  /** A registry to reuse (plugins already loaded); by default a new one with the built-ins. */
  registry?: KeyringRegistry;
}

/** A registry with the built-in keyring types. */
export function createRegistry(options: RegistryOptions = {}): KeyringRegistry {
  return new KeyringRegistry(options).load(builtinKeyrings());
}

/** Splits a configuration into plugins, the keyring and the cache settings. */
export function splitConfig(config: unknown): { plugins: string[]; keyring: unknown; keyringPath: string; cache: unknown } {
  const c = parseAt(fileSchema, config, 'config');
  if ('keyring' in c && c.keyring !== undefined)
    return { plugins: c.plugins ?? [], keyring: c.keyring, keyringPath: 'keyring', cache: c.cache };
  const { plugins, cache, ...keyring } = c;
  return { plugins: plugins ?? [], keyring, keyringPath: 'keyring', cache };
}

async function registryFor(plugins: string[], options: BuildOptions): Promise<KeyringRegistry> {
  const registry = options.registry ?? createRegistry(options);
  if (plugins.length) await registry.loadPlugins(plugins);
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
  const registry = await registryFor(s.plugins, options);
  return registry.build(s.keyring, s.keyringPath);
}

/**
 * Builds a materials manager: the keyring in a default manager, or, with `"cache"`, in a
 * caching manager.
 */
export async function buildMaterialsManager(config: unknown, options: BuildOptions = {}): Promise<MaterialsManager> {
  const s = splitConfig(config);
  const registry = await registryFor(s.plugins, options);
  const keyring = await registry.build(s.keyring, s.keyringPath);
  if (s.cache === undefined) return new DefaultMaterialsManager(keyring);
  return wrapWithCache(keyring, parseAt(cacheSchema, s.cache, 'cache'), registry.audit);
}
