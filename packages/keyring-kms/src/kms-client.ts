/**
 * The only file that imports the AWS SDK. Keyrings talk to a small structural `KmsClient`; a
 * region → client supplier caches one SDK client per region with request timeouts that throw
 * (the SDK's default only warns, so a silent endpoint would hang a call forever).
 */
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface KmsClient {
  generateDataKey(
    input: { KeyId: string; NumberOfBytes: number; EncryptionContext?: Record<string, string>; GrantTokens?: string[] },
    signal: AbortSignal,
  ): Promise<{ Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array; KeyId?: string }>;
  encrypt(
    input: { KeyId: string; Plaintext: Uint8Array; EncryptionContext?: Record<string, string>; GrantTokens?: string[] },
    signal: AbortSignal,
  ): Promise<{ CiphertextBlob?: Uint8Array; KeyId?: string }>;
  decrypt(
    input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string>; GrantTokens?: string[] },
    signal: AbortSignal,
  ): Promise<{ Plaintext?: Uint8Array; KeyId?: string }>;
}

export type KmsClientSupplier = (region: string) => KmsClient;

/** Adapts an SDK v3 `KMSClient` (any configuration) to {@link KmsClient}. */
export function fromSdkClient(client: KMSClient): KmsClient {
  return {
    generateDataKey: (input, signal) => client.send(new GenerateDataKeyCommand(input), { abortSignal: signal }),
    encrypt: (input, signal) => client.send(new EncryptCommand(input), { abortSignal: signal }),
    decrypt: (input, signal) => client.send(new DecryptCommand(input), { abortSignal: signal }),
  };
}

export interface KmsClientSupplierOptions {
  /** One endpoint for every region (kms-local), e.g. http://127.0.0.1:4566. */
  endpoint?: string;
  /** Static credentials; default: the SDK's chain (environment variables first). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Per-request timeout at the HTTP layer (default 2000 ms). */
  requestTimeoutMs?: number;
  /** TCP connect timeout (default 1000 ms). */
  connectionTimeoutMs?: number;
  /** Extra SDK client settings. */
  clientConfig?: Partial<KMSClientConfig>;
}

/**
 * A supplier with one cached SDK client per region. Retries are ours (`maxAttempts: 1`), so
 * the retry budget and deadlines are in one place.
 *
 * @example
 * ```ts
 * const clients = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials });
 * ```
 */
export function kmsClientSupplier(o: KmsClientSupplierOptions = {}): KmsClientSupplier {
  const cache = new Map<string, KmsClient>();
  return (region) => {
    let c = cache.get(region);
    if (!c) {
      const sdk = new KMSClient({
        region,
        maxAttempts: 1,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        ...(o.credentials ? { credentials: o.credentials } : {}),
        requestHandler: new NodeHttpHandler({
          requestTimeout: o.requestTimeoutMs ?? 2000,
          connectionTimeout: o.connectionTimeoutMs ?? 1000,
          throwOnRequestTimeout: true,
        }),
        ...o.clientConfig,
      });
      c = fromSdkClient(sdk);
      cache.set(region, c);
    }
    return c;
  };
}
