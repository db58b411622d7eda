/**
 * AWS client pools: one region → client supplier per distinct client setting, shared by the
 * keyrings of one container (the `KMS_CLIENTS` and `DYNAMODB_CLIENTS` services). Loaded only when
 * a configuration needs AWS: it imports the SDK.
 *
 * Every setting that changes who the client is or where it goes is part of the pool key:
 * endpoint, profile, credentials and timeouts. Two keyrings with different profiles or
 * credentials never share a client (finding 15.14), and nothing is written to process.env.
 */
import { createHash } from 'node:crypto';
import { credentialsFromEnv, type KmsClientSupplier, type StaticCredentials } from '@envelope/keyring-kms';

/** The client settings of an AWS keyring configuration (or a key store's). */
export interface ClientSettings {
  readonly endpoint?: string | undefined;
  /** Explicit credentials; otherwise the profile, then the registry's environment, then the SDK's chain. */
  readonly credentials?: StaticCredentials | undefined;
  /** A profile from the shared AWS config files, passed to the SDK client (never through process.env). */
  readonly profile?: string | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly connectionTimeoutMs?: number | undefined;
}

export interface ClientPool<S> {
  /** The supplier for these settings: equal settings share one (and its SDK clients). */
  supplier(settings: ClientSettings): S;
  /** Distinct settings seen so far. */
  readonly size: number;
}

/** The pool of KMS client suppliers. */
export type KmsClientPool = ClientPool<KmsClientSupplier>;

/** What a supplier factory takes (keyring-kms's `kmsClientSupplier`, keyring-hierarchical's `dynamoDbClientSupplier`). */
export interface SupplierOptions {
  endpoint?: string;
  credentials?: StaticCredentials;
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  clientConfig?: { profile: string };
}

/** Which credentials a setting uses: explicit ones, else a profile (the SDK reads it), else the environment's. */
function identity(s: ClientSettings, env: NodeJS.ProcessEnv): { credentials?: StaticCredentials; profile?: string } {
  if (s.credentials) return { credentials: s.credentials };
  const profile = s.profile ?? env.AWS_PROFILE;
  if (profile) return { profile };
  const fromEnv = credentialsFromEnv(env);
  return fromEnv ? { credentials: fromEnv } : {};
}

/** Credentials enter the key as a digest, so the pool's keys hold no secret. */
function fingerprint(c: StaticCredentials | undefined): string | null {
  if (!c) return null;
  return createHash('sha256')
    .update(JSON.stringify([c.accessKeyId, c.secretAccessKey, c.sessionToken ?? null]))
    .digest('base64url');
}

/**
 * A pool over `make`, a supplier factory.
 *
 * @example
 * ```ts
 * const pool = createClientPool(process.env, kmsClientSupplier);
 * pool.supplier({ profile: 'a' }) !== pool.supplier({ profile: 'b' }); // true
 * ```
 */
export function createClientPool<S>(env: NodeJS.ProcessEnv, make: (options: SupplierOptions) => S): ClientPool<S> {
  const suppliers = new Map<string, S>();
  return {
    get size() {
      return suppliers.size;
    },
    supplier(s) {
      const who = identity(s, env);
      const key = JSON.stringify([
        s.endpoint ?? null,
        who.profile ?? null,
        fingerprint(who.credentials),
        s.requestTimeoutMs ?? null,
        s.connectionTimeoutMs ?? null,
      ]);
      let supplier = suppliers.get(key);
      if (!supplier) {
        supplier = make({
          ...(s.endpoint ? { endpoint: s.endpoint } : {}),
          ...(who.credentials ? { credentials: who.credentials } : {}),
          ...(who.profile ? { clientConfig: { profile: who.profile } } : {}),
          ...(s.requestTimeoutMs ? { requestTimeoutMs: s.requestTimeoutMs } : {}),
          ...(s.connectionTimeoutMs ? { connectionTimeoutMs: s.connectionTimeoutMs } : {}),
        });
        suppliers.set(key, supplier);
      }
      return supplier;
    },
  };
}
