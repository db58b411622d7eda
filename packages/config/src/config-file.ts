/**
 * The two forms of a configuration (docs/configuration.md "Forms"): a keyring object
 * (`{"type": …}`, optionally with `"plugins"` and `"cache"` beside `type`), or the file form
 * `{"plugins": […], "keyring": {…}, "cache": {…}, "audit": {"file": …}}`, whose unknown fields
 * are errors naming the field.
 */
import { configError, parseAt } from './errors.js';
import { s, type Infer } from './schema.js';

const plugins = s.array(s.nonEmpty()).optional();

const fileForm = s.object({ plugins, keyring: s.unknown(), cache: s.unknown(), audit: s.unknown() });

export const auditSectionSchema = s.object({ file: s.nonEmpty(), includeContextValues: s.boolean().optional() });
export type AuditSection = Infer<typeof auditSectionSchema>;

/** A configuration split into its parts, each with the path errors name it by. */
export interface SplitConfig {
  plugins: string[];
  keyring: unknown;
  keyringPath: string;
  cache: unknown;
  audit: AuditSection | undefined;
}

/**
 * Splits a configuration into plugins, the keyring, the cache and audit settings. Validates the
 * file form's own fields (the keyring and cache are validated when built).
 */
export function splitConfig(config: unknown): SplitConfig {
  const isObject = typeof config === 'object' && config !== null && !Array.isArray(config);
  if (isObject && !('keyring' in config) && 'type' in config) {
    // A keyring object: "plugins" and "cache" may sit beside "type"; everything else is the keyring's.
    const { plugins: p, cache, ...keyring } = config as Record<string, unknown>;
    return { plugins: parseAt(plugins, p, 'plugins') ?? [], keyring, keyringPath: 'keyring', cache, audit: undefined };
  }
  const c = parseAt(fileForm, config, '');
  if (c.keyring === undefined) throw configError('keyring', 'missing (the file form needs "keyring"; a keyring object needs "type")');
  return {
    plugins: c.plugins ?? [],
    keyring: c.keyring,
    keyringPath: 'keyring',
    cache: c.cache,
    audit: c.audit === undefined ? undefined : parseAt(auditSectionSchema, c.audit, 'audit'),
  };
}
