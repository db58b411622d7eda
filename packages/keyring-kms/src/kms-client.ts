/**
 * The only file that imports the AWS SDK. Keyrings talk to a small structural {@link KmsClient};
 * a region → client supplier caches one SDK client per region, with HTTP request timeouts that
 * throw (the SDK's default only warns, so a silent endpoint would hang a call) and no SDK
 * retries (ours are budgeted: see retry.ts).
 */
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  KMSClient,
  ReEncryptCommand,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { checkSdkClientSettings, sdkClientConfig, type SdkClientSettings } from './sdk-client-settings.js';

/** GenerateDataKey request (the fields the keyrings use). */
export interface GenerateDataKeyInput {
  KeyId: string;
  NumberOfBytes: number;
  EncryptionContext?: Record<string, string>;
  GrantTokens?: string[];
}
/** Encrypt request. */
export interface EncryptInput {
  KeyId: string;
  Plaintext: Uint8Array;
  EncryptionContext?: Record<string, string>;
  GrantTokens?: string[];
}
/** Decrypt request. */
export interface DecryptInput {
  KeyId: string;
  CiphertextBlob: Uint8Array;
  EncryptionContext?: Record<string, string>;
  GrantTokens?: string[];
}

/** ReEncrypt request (the branch key store: activating and authenticating branch key items). */
export interface ReEncryptInput {
  CiphertextBlob: Uint8Array;
  SourceKeyId?: string;
  SourceEncryptionContext?: Record<string, string>;
  DestinationKeyId: string;
  DestinationEncryptionContext?: Record<string, string>;
  GrantTokens?: string[];
}

/**
 * The three KMS operations a keyring needs, each taking the request and an AbortSignal that
 * must end the request. Structural: an SDK v3 client adapts with {@link fromSdkClient}; tests
 * and other transports can implement it directly. Failures should carry KMS's exception name
 * as `name` (as the SDK's do).
 */
export interface KmsClient {
  generateDataKey(
    input: GenerateDataKeyInput,
    signal: AbortSignal,
  ): Promise<{ Plaintext?: Uint8Array | undefined; CiphertextBlob?: Uint8Array | undefined; KeyId?: string | undefined }>;
  encrypt(input: EncryptInput, signal: AbortSignal): Promise<{ CiphertextBlob?: Uint8Array | undefined; KeyId?: string | undefined }>;
  decrypt(input: DecryptInput, signal: AbortSignal): Promise<{ Plaintext?: Uint8Array | undefined; KeyId?: string | undefined }>;
  /** For key stores that make keys without seeing them (the hierarchical keyring's branch key store). */
  generateDataKeyWithoutPlaintext?(
    input: GenerateDataKeyInput,
    signal: AbortSignal,
  ): Promise<{ CiphertextBlob?: Uint8Array | undefined; KeyId?: string | undefined }>;
  /** For key stores: re-seal a blob under another context (or key) without the plaintext leaving KMS. */
  reEncrypt?(
    input: ReEncryptInput,
    signal: AbortSignal,
  ): Promise<{ CiphertextBlob?: Uint8Array | undefined; KeyId?: string | undefined; SourceKeyId?: string | undefined }>;
}

/** Returns the client for a region (e.g. `us-east-1`). Called per KMS call: cache inside. */
export type KmsClientSupplier = (region: string) => KmsClient;

/**
 * Adapts an SDK v3 `KMSClient` (any configuration) to {@link KmsClient}; the signal is passed
 * as `abortSignal`, so aborting ends the HTTP request.
 *
 * @example
 * ```ts
 * const client = fromSdkClient(new KMSClient({ region: 'eu-west-1' }));
 * new KmsKeyring({ clientSupplier: () => client, generatorKeyId: arn });
 * ```
 */
export function fromSdkClient(client: KMSClient): KmsClient {
  return {
    generateDataKey: (input, signal) => client.send(new GenerateDataKeyCommand(input), { abortSignal: signal }),
    encrypt: (input, signal) => client.send(new EncryptCommand(input), { abortSignal: signal }),
    decrypt: (input, signal) => client.send(new DecryptCommand(input), { abortSignal: signal }),
    generateDataKeyWithoutPlaintext: (input, signal) =>
      client.send(new GenerateDataKeyWithoutPlaintextCommand(input), { abortSignal: signal }),
    reEncrypt: (input, signal) => client.send(new ReEncryptCommand(input), { abortSignal: signal }),
  };
}

/** {@link SdkClientSettings} (endpoint, credentials, timeouts), and: */
export interface KmsClientSupplierOptions extends SdkClientSettings {
  /** SDK attempts per call. Default 1: the keyrings retry themselves, within a budget. */
  maxAttempts?: number;
  /** Further SDK client settings (override the above). */
  clientConfig?: Partial<KMSClientConfig>;
  /**
   * Most regions with a cached client (least recently used evicted and destroyed); default 32.
   * A discovery keyring calls the region an (untrusted) header names: the cache must not grow
   * with every region an attacker writes (issue 15.i3).
   */
  maxClients?: number;
}

/** A {@link KmsClientSupplier} that says how many clients it holds. */
export type CachingKmsClientSupplier = KmsClientSupplier & {
  /** Regions with a cached client now. */
  readonly size: number;
};

/**
 * A supplier with one cached SDK `KMSClient` per region: `maxAttempts: 1` (our retries are
 * budgeted), a `NodeHttpHandler` with `throwOnRequestTimeout`, and an optional endpoint shared
 * by every region (kms-local reads the region from the SigV4 scope).
 *
 * @example
 * ```ts
 * const clients = kmsClientSupplier();                                   // AWS, default credentials
 * const local = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials });
 * const keyring = new KmsKeyring({ clientSupplier: local, generatorKeyId: arn });
 * ```
 */
export function kmsClientSupplier(o: KmsClientSupplierOptions = {}): CachingKmsClientSupplier {
  checkSdkClientSettings(o, ['maxAttempts', 'maxClients']);
  const maxClients = o.maxClients ?? 32;
  // A Map iterates in insertion order: re-inserting on use makes the first entry the least recent.
  const cache = new Map<string, Entry>();
  const supplier = (region: string): KmsClient => {
    const hit = typeof region === 'string' ? cache.get(region) : undefined;
    if (hit) {
      cache.delete(region);
      cache.set(region, hit);
      return hit.client;
    }
    const sdk = new KMSClient({ ...sdkClientConfig(region, o, o.maxAttempts ?? 1), ...o.clientConfig });
    const entry = new Entry(sdk);
    cache.set(region, entry);
    while (cache.size > maxClients) {
      const [oldest, old] = cache.entries().next().value as [string, Entry];
      cache.delete(oldest);
      old.evict();
    }
    return entry.client;
  };
  return Object.defineProperty(supplier, 'size', { get: () => cache.size, enumerable: true }) as CachingKmsClientSupplier;
}

/** A cached SDK client that is destroyed once evicted and idle (calls in flight finish first). */
class Entry {
  readonly client: KmsClient;
  #inFlight = 0;
  #evicted = false;

  constructor(readonly sdk: KMSClient) {
    const inner = fromSdkClient(sdk);
    const track =
      <A, R>(fn: (a: A, s: AbortSignal) => Promise<R>) =>
      async (a: A, s: AbortSignal): Promise<R> => {
        this.#inFlight++;
        try {
          return await fn(a, s);
        } finally {
          if (--this.#inFlight === 0 && this.#evicted) this.sdk.destroy();
        }
      };
    this.client = {
      generateDataKey: track(inner.generateDataKey),
      encrypt: track(inner.encrypt),
      decrypt: track(inner.decrypt),
      generateDataKeyWithoutPlaintext: track(inner.generateDataKeyWithoutPlaintext!),
      reEncrypt: track(inner.reEncrypt!),
    };
  }

  evict(): void {
    this.#evicted = true;
    if (this.#inFlight === 0) this.sdk.destroy();
  }
}
