/**
 * The container behind a {@link KeyringRegistry}: typed service tokens bound to factories with a
 * scope, resolved on first use (so a service that needs the AWS SDK loads it only when a
 * keyring asks for it), overridable by plugins and tests, disposed in reverse order on close.
 * docs/plugins.md ("Services") says why this is ours and not inversify's.
 */
import { configError } from './errors.js';

/**
 * A typed key for a service. Two tokens with the same name are the same service, so a plugin
 * compiled against another copy of this package binds and injects the host's services.
 */
export interface ServiceToken<T> {
  readonly name: string;
  /** Type carrier only; never set. */
  readonly __type?: () => T;
}

/** Creates a token; by convention names are kebab-case and a plugin prefixes its own (`acme:vault-client`). */
export function serviceToken<T>(name: string): ServiceToken<T> {
  return Object.freeze({ name });
}

/**
 * `singleton`: one instance per container, made on first use (shared by every keyring built
 * from it). `transient`: a new instance for every consumer.
 */
export type Scope = 'singleton' | 'transient';

export interface BindingOptions<T> {
  /** Default `singleton`. */
  scope?: Scope;
  /** Called on {@link ServiceContainer.close} for each instance made (singletons only). */
  dispose?: (instance: T) => void | Promise<void>;
}

/** What a factory receives: the container, to resolve the services it depends on. */
export interface ServiceResolver {
  get<T>(token: ServiceToken<T>): Promise<T>;
}

export type ServiceFactory<T> = (services: ServiceResolver) => T | Promise<T>;

interface Binding {
  readonly factory: ServiceFactory<unknown>;
  readonly scope: Scope;
  readonly dispose: ((instance: unknown) => void | Promise<void>) | undefined;
  instance?: Promise<unknown>;
}

export class ServiceContainer implements ServiceResolver {
  readonly #bindings = new Map<string, Binding>();
  /** Singletons made so far, in order, for close(). */
  readonly #made: Binding[] = [];

  /** Binds a service; binding a token twice is an error (use {@link override}). */
  bind<T>(token: ServiceToken<T>, factory: ServiceFactory<T>, options: BindingOptions<T> = {}): this {
    if (this.#bindings.has(token.name)) throw configError('services', `service "${token.name}" is already bound`);
    return this.#set(token, factory, options);
  }

  /** Replaces a binding (a plugin's own KMS client pool, a test's fake clock); only before first use. */
  override<T>(token: ServiceToken<T>, factory: ServiceFactory<T>, options: BindingOptions<T> = {}): this {
    if (this.#bindings.get(token.name)?.instance)
      throw configError('services', `service "${token.name}" is already in use; override it before building keyrings`);
    return this.#set(token, factory, options);
  }

  isBound(token: ServiceToken<unknown>): boolean {
    return this.#bindings.has(token.name);
  }

  /** Whether a singleton has been made (or is being made) for `token`. */
  inUse(token: ServiceToken<unknown>): boolean {
    return this.#bindings.get(token.name)?.instance !== undefined;
  }

  /** Names of the bound services that start with `prefix`. */
  names(prefix = ''): string[] {
    return [...this.#bindings.keys()].filter((n) => n.startsWith(prefix));
  }

  get<T>(token: ServiceToken<T>): Promise<T> {
    return this.#get(token, []);
  }

  /** Disposes the singletons made, newest first; the container can be used again afterwards. */
  async close(): Promise<void> {
    const made = this.#made.splice(0).reverse();
    for (const b of made) {
      const instance = await b.instance!.catch(() => undefined);
      b.instance = undefined;
      if (instance !== undefined) await b.dispose?.(instance);
    }
  }

  #set<T>(token: ServiceToken<T>, factory: ServiceFactory<T>, options: BindingOptions<T>): this {
    this.#bindings.set(token.name, {
      factory,
      scope: options.scope ?? 'singleton',
      dispose: options.dispose as Binding['dispose'],
    });
    return this;
  }

  #get<T>(token: ServiceToken<T>, chain: readonly string[]): Promise<T> {
    const b = this.#bindings.get(token.name);
    if (!b) return Promise.reject(configError('services', `service "${token.name}" is not bound`));
    if (chain.includes(token.name))
      return Promise.reject(configError('services', `services depend on each other in a cycle: ${[...chain, token.name].join(' → ')}`));
    const next = [...chain, token.name];
    const make = async (): Promise<unknown> => b.factory({ get: (t) => this.#get(t, next) });
    if (b.scope === 'transient') return make() as Promise<T>;
    if (!b.instance) {
      const p = make();
      b.instance = p;
      this.#made.push(b);
      // A factory that failed (a bad setting) may succeed on a later call: forget the failure.
      p.catch(() => {
        if (b.instance === p) {
          b.instance = undefined;
          this.#made.splice(this.#made.indexOf(b), 1);
        }
      });
    }
    return b.instance as Promise<T>;
  }
}
