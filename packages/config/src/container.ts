/**
 * The composition root: an inversify container where every keyring type is a provider, and
 * plugin packages add theirs. Libraries take collaborators in their constructors; only this
 * package and the CLI know the container.
 */
import { Container, ContainerModule } from 'inversify';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Keyring } from '@envelope/core';
import { configError, joinPath, parseAt } from './errors.js';
import { AuditingKeyring, nullAuditSink, type AuditSink } from './audit.js';
import { KEYRING_PROVIDER, type KeyringDeps, type KeyringDescription, type KeyringProvider } from './provider.js';

export interface RegistryOptions {
  audit?: AuditSink;
  env?: NodeJS.ProcessEnv;
  /** Relative paths in configurations resolve against this (default: the working directory). */
  baseDir?: string;
  now?: () => number;
}

/** The keyring types a container knows, by type name. */
export class KeyringRegistry {
  readonly container = new Container();
  readonly #modules: ContainerModule[] = [];
  readonly #services = new Map<string, unknown>();
  readonly audit: AuditSink;
  readonly env: NodeJS.ProcessEnv;
  readonly baseDir: string;
  readonly now: () => number;

  constructor(options: RegistryOptions = {}) {
    this.audit = options.audit ?? nullAuditSink;
    this.env = options.env ?? process.env;
    this.baseDir = options.baseDir ?? process.cwd();
    this.now = options.now ?? (() => performance.now());
  }

  /** Loads container modules (built-in or from plugins). */
  load(...modules: ContainerModule[]): this {
    for (const m of modules) {
      if (!(m instanceof ContainerModule))
        throw configError('plugins', 'a plugin must export a ContainerModule made with keyringProviderModule()');
      this.container.load(m);
      this.#modules.push(m);
    }
    this.providers(); // surfaces duplicates at load time
    return this;
  }

  /** Every registered provider, by type; a type registered twice is an error. */
  providers(): Map<string, KeyringProvider> {
    const all = this.container.isBound(KEYRING_PROVIDER) ? this.container.getAll<KeyringProvider>(KEYRING_PROVIDER) : [];
    const byType = new Map<string, KeyringProvider>();
    for (const p of all) {
      if (byType.has(p.type)) throw configError('plugins', `keyring type ${JSON.stringify(p.type)} is registered twice`);
      byType.set(p.type, p);
    }
    return byType;
  }

  /**
   * Loads plugin packages by name, resolved as Node would from a file in `baseDir`, then from the
   * working directory, then beside this package (a plugin installed next to the CLI). A
   * plugin's default export (or `keyringProviders` export) is a ContainerModule.
   */
  async loadPlugins(names: readonly string[], at = 'plugins'): Promise<this> {
    const bases = [path.join(this.baseDir, 'noop.js'), path.join(process.cwd(), 'noop.js'), import.meta.url];
    const resolve = (name: string): string => {
      let last: unknown;
      for (const b of bases) {
        try {
          return createRequire(b).resolve(name);
        } catch (e) {
          last = e;
        }
      }
      throw last;
    };
    for (const [i, name] of names.entries()) {
      let mod: Record<string, unknown>;
      try {
        const resolved = resolve(name);
        mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
      } catch (e) {
        throw configError(`${at}[${i}]`, `cannot load plugin ${JSON.stringify(name)} (${(e as Error).message.split('\n')[0]})`, e);
      }
      const m = mod.default ?? mod.keyringProviders;
      if (!(m instanceof ContainerModule)) {
        throw configError(
          `${at}[${i}]`,
          `plugin ${JSON.stringify(name)} does not export a ContainerModule (default export or "keyringProviders")`,
        );
      }
      this.load(m);
    }
    return this;
  }

  /** Builds a keyring from one configuration object; `path` names it in errors. */
  async build(config: unknown, at = 'keyring'): Promise<Keyring> {
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw configError(at, 'expected an object with a "type"');
    const type = (config as { type?: unknown }).type;
    const providers = this.providers();
    const provider = typeof type === 'string' ? providers.get(type) : undefined;
    if (!provider) {
      throw configError(
        joinPath(at, ['type']),
        `unknown keyring type ${JSON.stringify(type)} (known: ${[...providers.keys()].sort().join(', ')})`,
      );
    }
    const parsed = parseAt(provider.schema, config, at);
    const keyring = await provider.create(parsed, this.#deps(), at);
    const d = provider.describe?.(parsed);
    if (this.audit === nullAuditSink || provider.type === 'multi') return keyring;
    return new AuditingKeyring(keyring, this.audit, { keyringType: provider.type, keyId: d?.label ?? d?.kms?.[0]?.keyId });
  }

  /**
   * What a configuration touches, without building it: each leaf keyring's description (KMS keys
   * and actions, labels), with its path. Validates like {@link build}.
   */
  describe(config: unknown, at = 'keyring'): { path: string; type: string; description: KeyringDescription }[] {
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw configError(at, 'expected an object with a "type"');
    const type = (config as { type?: unknown }).type;
    const provider = typeof type === 'string' ? this.providers().get(type) : undefined;
    if (!provider) throw configError(joinPath(at, ['type']), `unknown keyring type ${JSON.stringify(type)}`);
    const parsed = parseAt(provider.schema, config, at);
    const kids = provider.children?.(parsed, at) ?? [];
    const own = provider.describe ? [{ path: at, type: provider.type, description: provider.describe(parsed) }] : [];
    return [...own, ...kids.flatMap((k) => this.describe(k.config, k.path))];
  }

  #deps(): KeyringDeps {
    return {
      build: (c, p) => this.build(c, p),
      audit: this.audit,
      now: this.now,
      env: this.env,
      baseDir: this.baseDir,
      service: <T>(name: string, make: () => T): T => {
        if (!this.#services.has(name)) this.#services.set(name, make());
        return this.#services.get(name) as T;
      },
    };
  }
}
