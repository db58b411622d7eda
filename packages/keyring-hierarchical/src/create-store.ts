/**
 * CreateKeyStore (spec: framework/branch-key-store.md#createkeystore)
 * (spec: framework/branch-key-store.md#keyschema): describe the table; if it exists it must have
 * the key-store key schema (other indexes are allowed); if it does not, create it (on-demand
 * billing) with that schema. Either way, its ARN.
 */
import type { DynamoDbClient, TableDescription } from './dynamodb-client.js';
import { keyStoreError } from './errors.js';
import { PARTITION_KEY, SORT_KEY } from './item.js';
import { dynamoDbError, type CallScope } from './store-calls.js';

const KEY_SCHEMA = [
  { AttributeName: PARTITION_KEY, KeyType: 'HASH' as const },
  { AttributeName: SORT_KEY, KeyType: 'RANGE' as const },
];
const ATTRIBUTE_DEFINITIONS = [
  { AttributeName: PARTITION_KEY, AttributeType: 'S' as const },
  { AttributeName: SORT_KEY, AttributeType: 'S' as const },
];

/** True when the table's primary key is `branch-key-id` (hash, S) + `type` (range, S). */
export function hasKeyStoreSchema(t: TableDescription | undefined): boolean {
  if (!t?.KeySchema || !t.AttributeDefinitions) return false;
  const keys = t.KeySchema;
  const defs = t.AttributeDefinitions;
  return (
    KEY_SCHEMA.every((k) => keys.some((x) => x.AttributeName === k.AttributeName && x.KeyType === k.KeyType)) &&
    ATTRIBUTE_DEFINITIONS.every((a) => defs.some((x) => x.AttributeName === a.AttributeName && x.AttributeType === a.AttributeType))
  );
}

function schemaError(s: CallScope) {
  return keyStoreError(
    'TableSchema',
    `DynamoDB table ${JSON.stringify(s.tableName)} in ${s.region} exists without the key-store schema (${PARTITION_KEY} hash + ${SORT_KEY} range, both strings)`,
    { region: s.region },
  );
}

/**
 * Makes sure the store's table exists with the key-store schema; returns its ARN and whether this
 * call created it.
 */
export async function createKeyStoreTable(ddb: DynamoDbClient, s: CallScope): Promise<{ tableArn: string; created: boolean }> {
  let table: TableDescription | undefined;
  try {
    table = (await s.retrier.run((signal) => ddb.describeTable({ TableName: s.tableName }, signal), { signal: s.signal })).Table;
  } catch (e) {
    if ((e as { name?: unknown } | null)?.name !== 'ResourceNotFoundException') throw dynamoDbError(e, 'DescribeTable', s);
  }
  if (table) {
    if (!hasKeyStoreSchema(table) || !table.TableArn) throw schemaError(s);
    return { tableArn: table.TableArn, created: false };
  }
  let created: TableDescription | undefined;
  try {
    created = (
      await s.retrier.run(
        (signal) =>
          ddb.createTable(
            { TableName: s.tableName, KeySchema: KEY_SCHEMA, AttributeDefinitions: ATTRIBUTE_DEFINITIONS, BillingMode: 'PAY_PER_REQUEST' },
            signal,
          ),
        { signal: s.signal },
      )
    ).TableDescription;
  } catch (e) {
    throw dynamoDbError(e, 'CreateTable', s);
  }
  if (!hasKeyStoreSchema(created) || !created?.TableArn) throw schemaError(s);
  return { tableArn: created.TableArn, created: true };
}
