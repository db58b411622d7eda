/**
 * How every AWS SDK client of this project is made (KMS here, DynamoDB in keyring-hierarchical):
 * one SDK attempt per call (our retries are budgeted), a `NodeHttpHandler` whose request timeout
 * throws, an optional endpoint shared by every region (kms-local, moto_server), and a copy of
 * static credentials. Written once so the two suppliers cannot drift apart.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { invalidArgument } from '@envelope/core';

/** The client settings both suppliers take. */
export interface SdkClientSettings {
  /** One endpoint for every region, e.g. `http://127.0.0.1:4566`. Default: AWS. */
  endpoint?: string | undefined;
  /** Static credentials (copied). Default: the SDK's chain (environment variables first). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
  /** HTTP request timeout; throws `TimeoutError` (default 2000 ms). */
  requestTimeoutMs?: number | undefined;
  /** TCP connect timeout (default 1000 ms). */
  connectionTimeoutMs?: number | undefined;
}

/**
 * Checks the settings at the edge: the timeouts (and any further numeric options named in
 * `positive`) are positive numbers, the endpoint a URL.
 */
export function checkSdkClientSettings<T extends SdkClientSettings>(o: T, positive: readonly (keyof T & string)[] = []): void {
  for (const p of ['requestTimeoutMs', 'connectionTimeoutMs', ...positive] as const) {
    const v = o[p as keyof T];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) throw invalidArgument(p, 'expected a positive number');
  }
  if (o.endpoint !== undefined && !URL.canParse(o.endpoint)) throw invalidArgument('endpoint', 'expected a URL');
}

/**
 * The SDK client configuration for one region.
 *
 * @example
 * ```ts
 * const sdk = new DynamoDBClient({ ...sdkClientConfig('eu-west-1', { endpoint: moto.url }), ...clientConfig });
 * ```
 */
export function sdkClientConfig(region: string, o: SdkClientSettings, maxAttempts = 1) {
  if (typeof region !== 'string' || region === '') throw invalidArgument('region', 'expected a region name');
  return {
    region,
    maxAttempts,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    // A copy: the SDK annotates the credentials object it is given (and theirs may be frozen).
    ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
    requestHandler: new NodeHttpHandler({
      requestTimeout: o.requestTimeoutMs ?? 2000,
      connectionTimeout: o.connectionTimeoutMs ?? 1000,
      throwOnRequestTimeout: true,
    }),
  };
}
