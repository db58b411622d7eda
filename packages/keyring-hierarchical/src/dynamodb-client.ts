/**
 * The only file that imports the DynamoDB SDK. The key store talks to a small structural
 * {@link DynamoDbClient}, four operations that each take an AbortSignal; a region → client
 * supplier caches one SDK client per region, with HTTP timeouts that throw and no SDK retries
 * (the store retries within keyring-kms's budgeted {@link Retrier}).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClientConfig,
  type GetItemCommandInput,
  type TableDescription,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { checkSdkClientSettings, sdkClientConfig, type SdkClientSettings } from '@envelope/keyring-kms';

export type { AttributeValue, TableDescription };
/** A DynamoDB item: attribute name → typed value. */
export type Item = Record<string, AttributeValue>;

/** The DynamoDB operations a branch key store uses. Failures carry DynamoDB's exception name as `name`. */
export interface DynamoDbClient {
  getItem(input: GetItemCommandInput, signal: AbortSignal): Promise<{ Item?: Item | undefined }>;
  transactWriteItems(input: TransactWriteItemsCommandInput, signal: AbortSignal): Promise<unknown>;
  describeTable(input: { TableName: string }, signal: AbortSignal): Promise<{ Table?: TableDescription | undefined }>;
  createTable(input: CreateTableCommandInput, signal: AbortSignal): Promise<{ TableDescription?: TableDescription | undefined }>;
}

/** Returns the DynamoDB client for a region. Called per call: cache inside. */
export type DynamoDbClientSupplier = (region: string) => DynamoDbClient;

/**
 * Adapts an SDK v3 `DynamoDBClient`; the signal is passed as `abortSignal`, so aborting ends the
 * HTTP request.
 */
export function fromDynamoDbSdkClient(client: DynamoDBClient): DynamoDbClient {
  return {
    getItem: (input, signal) => client.send(new GetItemCommand(input), { abortSignal: signal }),
    transactWriteItems: (input, signal) => client.send(new TransactWriteItemsCommand(input), { abortSignal: signal }),
    describeTable: (input, signal) => client.send(new DescribeTableCommand(input), { abortSignal: signal }),
    createTable: (input, signal) => client.send(new CreateTableCommand(input), { abortSignal: signal }),
  };
}

/** keyring-kms's {@link SdkClientSettings} (endpoint, e.g. moto_server's; credentials; timeouts), and: */
export interface DynamoDbClientSupplierOptions extends SdkClientSettings {
  /** Further SDK client settings (override the above). */
  clientConfig?: Partial<DynamoDBClientConfig> | undefined;
}

/**
 * A supplier with one cached SDK `DynamoDBClient` per region: `maxAttempts: 1`, a
 * `NodeHttpHandler` whose request timeout throws, and an optional endpoint for every region.
 *
 * @example
 * ```ts
 * const ddb = dynamoDbClientSupplier({ endpoint: 'http://127.0.0.1:5000' });
 * const store = new BranchKeyStore({ tableName, logicalKeyStoreName, kmsKeyArn, dynamoDb: ddb, kms: kmsClientSupplier() });
 * ```
 */
export function dynamoDbClientSupplier(o: DynamoDbClientSupplierOptions = {}): DynamoDbClientSupplier {
  checkSdkClientSettings(o);
  const cache = new Map<string, DynamoDbClient>();
  return (region) => {
    let c = typeof region === 'string' ? cache.get(region) : undefined;
    if (!c) {
      c = fromDynamoDbSdkClient(new DynamoDBClient({ ...sdkClientConfig(region, o), ...o.clientConfig }));
      cache.set(region, c);
    }
    return c;
  };
}

/**
 * The endpoint the AWS SDK's standard variables name for a service: `AWS_ENDPOINT_URL_<SERVICE>`
 * first, then `AWS_ENDPOINT_URL` (how a user points everything at a local emulator). Undefined
 * when neither is set (or `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true, as the SDK honours).
 *
 * @example
 * ```ts
 * endpointFromEnv(process.env, 'DYNAMODB'); // 'http://127.0.0.1:5000' with AWS_ENDPOINT_URL_DYNAMODB set
 * ```
 */
export function endpointFromEnv(env: NodeJS.ProcessEnv, service: 'DYNAMODB' | 'KMS'): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}
