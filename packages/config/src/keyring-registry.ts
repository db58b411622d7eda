/**
 * The composition root: a registry of keyring types over a {@link ServiceContainer}. Keyring
 * providers and shared services are bindings of the container; built-in types and plugins
 * register through the same config-module API; providers get their services injected.
 * Libraries take collaborators in their constructors; only this package (and the CLI through
 * it) knows the container.
 */
import type { Keyring } from '@envelope/core';
import type { Clock } from '@envelope/keyring-kms';
import { nullAuditSink, type AuditSink } from './audit.js';
import { AuditingKeyring } from './auditing-keyring.js';
import type { ConfigSource } from './config-source.js';
import { configError, joinPath, parseAt } from './errors.js';
import { readableByOthers } from './key-file.js';
import { importPlugin } from './plugin-loader.js';
import {
  KEYRING_TOKEN_PREFIX,
  isConfigModule,
  keyringProviderToken,
  type ConfigModule,
  type ConfigWarning,
  type KeyringDescription,
  type KeyringProvider,
} from './provider.js';
import { ServiceContainer, type ServiceToken } from './service-container.js';
import { AUDIT_SINK, bindDefaultServices } from './services.js';

export interface RegistryOptions {
  /** Where audit events go (default: nowhere). */
  audit?: AuditSink;
  /** Environment variables for credentials and plugins (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Relative paths in configurations resolve against this (default: the working directory). */
  baseDir?: string;
  /** Time for breakers, hedges and deadlines (default: the system clock). */
  clock?: Clock;
  /**
   * A file or URL in the installation that plugin package names resolve from. Default: where
   * this package is installed (the application's node_modules). Never the working directory.
   */
  pluginsFrom?: string | URL;
  /** Lets configurations load plugins from paths (default false; docs/plugins.md). */
  allowPathPlugins?: boolean;
  /** Receives warnings (default: `process.emitWarning`). */
  onWarning?: (warning: ConfigWarning) => void;
}

/** Per-build state: where the configuration came from. */
interface BuildSession {
  /** The file, for the inline-key warning. */
  readonly source: ConfigSource | undefined;
  /** Relative paths in this configuration resolve here. */
  readonly baseDir: string;
}

/** Options of one build. */
export interface BuildSessionOptions {
  /** The file the configuration came from (`readConfigArgument().source`): enables the inline-key warning. */
  source?: ConfigSource | undefined;
  /** Relative paths resolve here (default: the registry's `baseDir`). */
  baseDir?: string | undefined;
}

/** The keyring types a container knows, and the services they share. */
export class KeyringRegistry {
  /** The bindings: keyring providers and shared services (see services.ts for the tokens). */
  readonly services = new ServiceContainer();
  readonly env: NodeJS.ProcessEnv;
  readonly baseDir: string;
  readonly #pluginsFrom: string | URL;
  readonly #allowPathPlugins: boolean;
  readonly #onWarning: (warning: ConfigWarning) => void;
  /** Files of the plugins loaded (resolved URLs). */
  readonly #plugins = new Set<string>();
  /** The audit sinks behind `AUDIT_SINK`. */
  readonly #audit: AuditSink[] = [];

  constructor(options: RegistryOptions = {}) {
    this.env = options.env ?? process.env;
    this.baseDir = options.baseDir ?? process.cwd();
    this.#pluginsFrom = options.pluginsFrom ?? import.meta.url;
    this.#allowPathPlugins = options.allowPathPlugins ?? false;
    this.#onWarning = options.onWarning ?? ((w) => process.emitWarning(w.message, { code: w.code }));
    if (options.audit) this.#audit.push(options.audit);
    bindDefaultServices(this.services, { env: this.env, audit: () => this.#audit, clock: options.clock });
  }

  /** Resolves a shared service (e.g. `HEALTH_REGISTRY` to watch breakers). */
  get<T>(token: ServiceToken<T>): Promise<T> {
    return this.services.get(token);
  }

  /**
   * Adds an audit sink beside the others (a configuration file's `"audit"` section); only before
   * the first keyring is built. `sink` may be a function that makes it, called only then (so a
   * refused file sink never creates its file).
   */
  addAuditSink(sink: AuditSink | (() => AuditSink)): this {
    if (this.services.inUse(AUDIT_SINK))
      throw configError('audit', 'the registry has built keyrings already; give its audit sinks before the first build');
    this.#audit.push(typeof sink === 'function' ? sink() : sink);
    return this;
  }

  /** Loads config modules (built-in or from plugins): their keyring types and services. */
  load(...modules: ConfigModule[]): this {
    for (const m of modules) {
      if (!isConfigModule(m))
        throw configError('plugins', 'a plugin must export a config module made with keyringProviderModule() or configModule()');
      m.register({
        keyring: (p) => this.#addType(p.type, () => p),
        lazyKeyring: (type, load) => this.#addType(type, load),
        bind: (token, factory, o) => void this.services.bind(token, factory, o),
        override: (token, factory, o) => void this.services.override(token, factory, o),
      });
    }
    return this;
  }

  /**
   * Loads plugins named in a configuration: package names from the installation only, paths
   * only with `allowPathPlugins` (plugin-loader.ts says the rules). A plugin whose file this
   * registry has loaded already is not loaded again (several configurations of a batch may name
   * it).
   */
  async loadPlugins(names: readonly string[], at = 'plugins', baseDir = this.baseDir): Promise<this> {
    for (const [i, name] of names.entries()) {
      const source = { resolveFrom: this.#pluginsFrom, allowPathPlugins: this.#allowPathPlugins, baseDir };
      const { url, module } = await importPlugin(name, `${at}[${i}]`, source, this.#plugins);
      if (!module) continue;
      this.load(module);
      this.#plugins.add(url);
    }
    return this;
  }

  /** The keyring types registered, sorted. */
  types(): string[] {
    return this.services
      .names(KEYRING_TOKEN_PREFIX)
      .map((n) => n.slice(KEYRING_TOKEN_PREFIX.length))
      .sort();
  }

  /** Builds a keyring from one configuration object; `at` names it in errors. */
  build(config: unknown, at = 'keyring', options: BuildSessionOptions = {}): Promise<Keyring> {
    return this.#build(config, at, { source: options.source, baseDir: options.baseDir ?? this.baseDir });
  }

  /**
   * What a configuration touches, without building it: each leaf keyring's description (KMS keys
   * and actions, labels), with its path. Validates like {@link build}.
   */
  async describe(config: unknown, at = 'keyring'): Promise<{ path: string; type: string; description: KeyringDescription }[]> {
    const { provider, parsed } = await this.#parse(config, at);
    const own = provider.describe ? [{ path: at, type: provider.type, description: provider.describe(parsed) }] : [];
    const kids = [];
    for (const k of provider.children?.(parsed, at) ?? []) kids.push(...(await this.describe(k.config, k.path)));
    return [...own, ...kids];
  }

  /** Disposes the services made (closes an audit file, for one). */
  close(): Promise<void> {
    return this.services.close();
  }

  #addType(type: string, load: () => KeyringProvider<never, never> | Promise<KeyringProvider<never, never>>): void {
    const token = keyringProviderToken(type);
    if (this.services.isBound(token)) throw configError('plugins', `keyring type ${JSON.stringify(type)} is registered twice`);
    this.services.bind(token, async () => {
      const p = (await load()) as KeyringProvider;
      if (p.type !== type) throw configError('plugins', `the provider loaded for ${JSON.stringify(type)} builds ${JSON.stringify(p.type)}`);
      return p;
    });
  }

  async #parse(config: unknown, at: string): Promise<{ provider: KeyringProvider; parsed: unknown }> {
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw configError(at, 'expected an object with a "type"');
    const type = (config as { type?: unknown }).type;
    const token = typeof type === 'string' ? keyringProviderToken(type) : undefined;
    if (!token || !this.services.isBound(token))
      throw configError(joinPath(at, ['type']), `unknown keyring type ${JSON.stringify(type)} (known: ${this.types().join(', ')})`);
    const provider = await this.services.get(token);
    return { provider, parsed: parseAt(provider.schema, config, at) };
  }

  async #build(config: unknown, at: string, session: BuildSession): Promise<Keyring> {
    const { provider, parsed } = await this.#parse(config, at);
    this.#warnInlineSecrets(provider, config as Record<string, unknown>, at, session);
    const injected: Record<string, unknown> = {};
    for (const [name, token] of Object.entries(provider.inject ?? {})) injected[name] = await this.services.get(token);
    const audit = await this.services.get(AUDIT_SINK);
    const keyring = await provider.create(
      parsed,
      {
        ...injected,
        build: (c, p) => this.#build(c, p, session),
        env: this.env,
        baseDir: session.baseDir,
        warn: (path, problem, code = 'ENVELOPE_CONFIG_WARNING') => this.#onWarning({ code, message: `${path}: ${problem}` }),
      },
      at,
    );
    // A composite (a provider with children) is not audited itself: its children are.
    if (audit === nullAuditSink || provider.children) return keyring;
    const d = provider.describe?.(parsed);
    return new AuditingKeyring(keyring, audit, { keyringType: provider.type, keyId: d?.label ?? d?.kms?.[0]?.keyId });
  }

  /** A configuration file that others can read must not hold key material inline (finding 15.9). */
  #warnInlineSecrets(provider: KeyringProvider, config: Record<string, unknown>, at: string, session: BuildSession): void {
    const src = session.source;
    if (!src || !readableByOthers(src.mode)) return;
    for (const field of provider.secretFields ?? []) {
      let v: unknown = config;
      for (const part of field.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
      if (v === undefined) continue;
      this.#onWarning({
        code: 'ENVELOPE_CONFIG_PERMISSIONS',
        message: `${at}.${field}: ${JSON.stringify(src.file)} holds key material and is readable by group or others (mode ${src.mode.toString(8)}); chmod 600 it, or move the key to a key file`,
      });
    }
  }
}
