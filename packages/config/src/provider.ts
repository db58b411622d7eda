/**
 * The plugin contract. A keyring type is a provider: a type name, a schema for its
 * configuration, the services it needs injected, and a factory. A config module registers
 * providers and services; built-in types register through the same module API as plugins.
 */
import type { Keyring } from '@envelope/core';
import type { StandardSchemaV1 } from './standard-schema.js';
import { serviceToken, type BindingOptions, type ServiceFactory, type ServiceToken } from './service-container.js';

/** Services a provider asks for, by the name its factory will see them under. */
export type Injections = Readonly<Record<string, ServiceToken<unknown>>>;

/** The resolved services of an {@link Injections} map. */
export type Injected<I extends Injections> = { readonly [K in keyof I]: I[K] extends ServiceToken<infer T> ? T : never };

/** What every factory gets besides its injected services. */
export interface KeyringContext {
  /** Builds a nested keyring configuration (composite types such as `multi`). */
  build(config: unknown, path: string): Promise<Keyring>;
  /** Environment variables (credentials, plugin settings): the registry's, not necessarily process.env. */
  readonly env: NodeJS.ProcessEnv;
  /** The directory relative paths in the configuration resolve against (the configuration file's). */
  readonly baseDir: string;
  /** Reports a problem that does not stop the build (see {@link ConfigWarning}). */
  warn(path: string, problem: string, code?: ConfigWarning['code']): void;
}

/** A problem that does not stop the build; the CLI prints it as `envelope: warning: CODE: message`. */
export interface ConfigWarning {
  readonly code: 'ENVELOPE_CONFIG_PERMISSIONS' | 'ENVELOPE_CONFIG_WARNING';
  /** Starts with the path, like error messages. */
  readonly message: string;
}

/** The dependencies a factory receives: its injected services and the {@link KeyringContext}. */
export type KeyringDeps<I extends Injections = Injections> = KeyringContext & Injected<I>;

export interface KeyringProvider<C = unknown, I extends Injections = Injections> {
  /** The `"type"` value this provider builds. */
  readonly type: string;
  /** Validates this type's configuration object, `type` included (any Standard Schema: `s` builders, zod). */
  readonly schema: StandardSchemaV1<unknown, C>;
  /** Services to resolve from the registry's container and pass to {@link create}. */
  readonly inject?: I;
  /**
   * Fields that hold key material inline (`"key"`, or a dotted path: `"keyStore.credentials"`):
   * a configuration file readable by group or others that sets one of them gets an
   * `ENVELOPE_CONFIG_PERMISSIONS` warning.
   */
  readonly secretFields?: readonly string[];
  /** Builds the keyring. */
  create(config: C, deps: KeyringDeps<I>, path: string): Keyring | Promise<Keyring>;
  /** Key ids the keyring uses, for audit events and `envelope policy` (optional). */
  describe?(config: C): KeyringDescription;
  /**
   * Nested keyring configurations of a composite type, with their paths. A composite is not
   * audited itself: each of its children is.
   */
  children?(config: C, path: string): { config: unknown; path: string }[];
}

/** What a configured keyring touches: for audit labels and least-privilege policies. */
export interface KeyringDescription {
  /** KMS keys and the actions used on each. */
  readonly kms?: readonly { keyId: string; actions: readonly ('kms:GenerateDataKey' | 'kms:Encrypt' | 'kms:Decrypt')[] }[];
  /** A label for audit events (e.g. a raw key's namespace/name). */
  readonly label?: string;
  /** Further IAM statements, as they are (e.g. a branch key store's DynamoDB table and KMS key). */
  readonly iam?: readonly IamStatement[];
}

/** One least-privilege statement for `envelope policy`. */
export interface IamStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The container token of a keyring type's provider. */
export function keyringProviderToken(type: string): ServiceToken<KeyringProvider> {
  return serviceToken<KeyringProvider>(`${KEYRING_TOKEN_PREFIX}${type}`);
}
export const KEYRING_TOKEN_PREFIX = 'keyring-type:';

/** What a config module's `register` may do with the registry's container. */
export interface ConfigBinder {
  /** Adds a keyring type; a type registered twice is an error. */
  keyring(provider: KeyringProvider<never, never>): void;
  /** Adds a keyring type whose provider is loaded on first use (how the built-ins keep start-up small). */
  lazyKeyring(type: string, load: () => Promise<KeyringProvider<never, never>>): void;
  /** Adds a service. */
  bind<T>(token: ServiceToken<T>, factory: ServiceFactory<T>, options?: BindingOptions<T>): void;
  /** Replaces a service (built-in or another plugin's). */
  override<T>(token: ServiceToken<T>, factory: ServiceFactory<T>, options?: BindingOptions<T>): void;
}

const CONFIG_MODULE = Symbol.for('envelope.config-module');

/** What a plugin package exports (default export, or `keyringProviders`). */
export interface ConfigModule {
  readonly [CONFIG_MODULE]: true;
  readonly register: (binder: ConfigBinder) => void;
}

/** Whether `m` is a config module (from this or another copy of this package). */
export function isConfigModule(m: unknown): m is ConfigModule {
  return typeof m === 'object' && m !== null && (m as Record<symbol, unknown>)[CONFIG_MODULE] === true;
}

/**
 * A config module: keyring types and services.
 *
 * @example
 * ```ts
 * export default configModule((bind) => {
 *   bind.keyring(vaultProvider);
 *   bind.bind(VAULT_CLIENT, () => new VaultClient(), { dispose: (c) => c.close() });
 * });
 * ```
 */
export function configModule(register: (binder: ConfigBinder) => void): ConfigModule {
  return { [CONFIG_MODULE]: true, register };
}

/**
 * A config module registering keyring providers: what most plugin packages export.
 *
 * @example
 * ```ts
 * export default keyringProviderModule(defineKeyringProvider({ type: 'my-keyring', schema, create: (c) => new MyKeyring(c) }));
 * ```
 */
export function keyringProviderModule(...providers: KeyringProvider<never, never>[]): ConfigModule {
  return configModule((bind) => {
    for (const p of providers) bind.keyring(p);
  });
}

/** Type helper for authors: types `create`'s config by the schema and its deps by `inject`. */
export function defineKeyringProvider<S extends StandardSchemaV1, I extends Injections = Record<never, never>>(p: {
  type: string;
  schema: S;
  inject?: I;
  secretFields?: readonly string[];
  create(config: StandardSchemaV1.InferOutput<S>, deps: KeyringDeps<I>, path: string): Keyring | Promise<Keyring>;
  describe?(config: StandardSchemaV1.InferOutput<S>): KeyringDescription;
  children?(config: StandardSchemaV1.InferOutput<S>, path: string): { config: unknown; path: string }[];
}): KeyringProvider<never, never> {
  return p as unknown as KeyringProvider<never, never>;
}
