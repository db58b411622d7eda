/**
 * The plugin contract: a keyring type is a provider — a type name, a zod schema for its
 * configuration and a factory that receives resolved dependencies. Built-in types register the
 * same way plugins do, through {@link keyringProviderModule}.
 */
import { ContainerModule } from 'inversify';
import type { Keyring } from '@envelope/core';
import type { z } from 'zod';
import type { AuditSink } from './audit.js';

/** Dependencies a keyring factory may use, resolved by the container. */
export interface KeyringDeps {
  /** Builds a nested keyring configuration (for composite types such as `multi`). */
  build(config: unknown, path: string): Promise<Keyring>;
  /** The audit sink (events from keyrings that report their own, e.g. failover). */
  readonly audit: AuditSink;
  /** Milliseconds since an arbitrary origin. */
  readonly now: () => number;
  /** Environment variables (credentials, plugin settings). */
  readonly env: NodeJS.ProcessEnv;
  /** The directory relative paths in the configuration are resolved against. */
  readonly baseDir: string;
  /** Shared services registered by providers (e.g. a KMS client supplier), by name. */
  service<T>(name: string, make: () => T): T;
}

export interface KeyringProvider<C = unknown> {
  /** The `"type"` value this provider builds. */
  readonly type: string;
  /** Validates this type's configuration object (including its `type`). */
  readonly schema: z.ZodType<C>;
  /** Builds the keyring. */
  create(config: C, deps: KeyringDeps, path: string): Keyring | Promise<Keyring>;
  /** Key ids the keyring uses, for audit events and `envelope policy` (optional). */
  describe?(config: C): KeyringDescription;
  /** Nested keyring configurations of a composite type, with their paths (for `envelope policy`). */
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

/** The container token under which every provider is bound (multi-binding). */
export const KEYRING_PROVIDER = Symbol.for('envelope.KeyringProvider');

/**
 * A container module registering keyring providers: what a plugin package exports.
 *
 * @example
 * ```ts
 * // my-plugin/src/index.ts
 * import { keyringProviderModule } from '@envelope/config';
 * export default keyringProviderModule({ type: 'my-keyring', schema, create: (c) => new MyKeyring(c) });
 * ```
 */
export function keyringProviderModule(...providers: KeyringProvider<never>[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const p of providers) bind<KeyringProvider<unknown>>(KEYRING_PROVIDER).toConstantValue(p as KeyringProvider<unknown>);
  });
}

/** Type helper for authors: keeps `create`'s config typed by the schema. */
export function defineKeyringProvider<S extends z.ZodType>(p: {
  type: string;
  schema: S;
  create(config: z.infer<S>, deps: KeyringDeps, path: string): Keyring | Promise<Keyring>;
  describe?(config: z.infer<S>): KeyringDescription;
  children?(config: z.infer<S>, path: string): { config: unknown; path: string }[];
}): KeyringProvider<never> {
  return p as unknown as KeyringProvider<never>;
}
