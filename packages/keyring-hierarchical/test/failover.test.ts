/**
 * DR: a key store whose KMS key is a multi-region key and whose table is a global table (moto
 * does not replicate between regions, so the test seeds each region's table, as replication
 * would). Reads fail over through the health registry and hedging: one region blackholed in
 * kms-local (or its DynamoDB unreachable) and the other region's table and KMS replica serve.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { decrypt, encrypt } from '@envelope/core';
import { HealthRegistry } from '@envelope/keyring-multi-region';
import { HierarchicalKeyring, dynamoDbClientSupplier, type BranchKeyStore } from '../src/index.js';
import { MOTO_CREDENTIALS, countingDynamoDb, kmsCalls, startBackends, storeOn, tableName, type Backends } from './helpers.js';

const HOME = 'us-east-1';
const REPLICA = 'us-west-2';
let b: Backends;
let keys: Record<string, string>;
let table: string;
let branchKeyId: string;

beforeAll(async () => {
  b = await startBackends([HOME, REPLICA]);
  keys = await b.createKmsKey(HOME, [REPLICA]);
  table = tableName('global');
  // One table per region (a global table's replicas), created through each region's store.
  await storeOn(b, { tableName: table, kmsKeyArn: keys[HOME]! }).createStore();
  await storeOn(b, { tableName: table, kmsKeyArn: keys[REPLICA]! }).createStore();
  const home = storeOn(b, { tableName: table, kmsKeyArn: keys[HOME]! });
  ({ branchKeyId } = await home.createKey({ branchKeyId: 'tenant-dr', encryptionContext: { tenant: 'dr' } }));
  // Replicate the branch key's items to the other region, as DynamoDB global tables would.
  const client = (r: string) => new DynamoDBClient({ region: r, endpoint: b.moto.url, credentials: MOTO_CREDENTIALS });
  const items = await client(HOME).send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#pk = :id',
      ExpressionAttributeNames: { '#pk': 'branch-key-id' },
      ExpressionAttributeValues: { ':id': { S: branchKeyId } },
    }),
  );
  for (const item of items.Items!) await client(REPLICA).send(new PutItemCommand({ TableName: table, Item: item }));
}, 60_000);
afterEach(() => {
  for (const r of [HOME, REPLICA]) b.kms.setFault(r, { mode: 'none' });
});
afterAll(() => b?.stop());

function drStore(
  o: { health?: HealthRegistry; dynamoDb?: ReturnType<typeof countingDynamoDb>; hedgeAfterMs?: number; deadlineMs?: number } = {},
) {
  const counting = o.dynamoDb ?? countingDynamoDb(b.ddbSupplier);
  const health = o.health ?? new HealthRegistry({ breaker: { failureThreshold: 2, openMs: 60_000 } });
  const store = storeOn(b, {
    tableName: table,
    kmsKeyArn: keys[HOME]!,
    replicaRegions: [REPLICA],
    dynamoDb: counting.supplier,
    health,
    hedgeAfterMs: o.hedgeAfterMs ?? 50,
    callTimeoutMs: 1000,
    deadlineMs: o.deadlineMs ?? 4000,
  });
  return { store, counting, health };
}
const keyringOn = (store: BranchKeyStore) => new HierarchicalKeyring({ keyStore: store, branchKeyId, cacheTtlSeconds: 60 });
const pt = Buffer.from('disaster recovery');

describe('reads across regions', () => {
  it('healthy: the home region serves (its table, its KMS key)', async () => {
    // A hedge delay past any healthy answer on a busy machine: only the home region is asked.
    const { store, counting } = drStore({ hedgeAfterMs: 20_000, deadlineMs: 25_000 });
    b.kms.resetStats();
    await encrypt(pt, { keyring: keyringOn(store) });
    expect(counting.counts[HOME]?.GetItem).toBe(1);
    expect(counting.counts[REPLICA]).toBeUndefined();
    expect([kmsCalls(b.kms, 'Decrypt', HOME), kmsCalls(b.kms, 'Decrypt', REPLICA)]).toEqual([1, 0]);
  });

  it('home region blackholed in kms-local: the replica region’s table and KMS key serve; the breaker opens; messages round-trip', async () => {
    const { store, counting, health } = drStore();
    const before = await encrypt(pt, { keyring: keyringOn(store) });
    b.kms.setFault(HOME, { mode: 'blackhole' });
    b.kms.resetStats();
    counting.reset();
    for (let i = 0; i < 3; i++) {
      // A fresh keyring each time: a cold cache, so every round reads the store.
      const keyring = keyringOn(store);
      const { ciphertext } = await encrypt(pt, { keyring });
      expect(Buffer.from((await decrypt(ciphertext, { keyring })).plaintext).equals(pt)).toBe(true);
      expect(Buffer.from((await decrypt(before.ciphertext, { keyring: keyringOn(store) })).plaintext).equals(pt)).toBe(true);
    }
    expect(kmsCalls(b.kms, 'Decrypt', REPLICA)).toBeGreaterThanOrEqual(6);
    expect(counting.counts[REPLICA]!.GetItem).toBeGreaterThanOrEqual(6);
    expect(health.breakerState(HOME)).toBe('open');
    // Open: the home region is no longer tried first (its GetItem count stops growing).
    const homeReads = counting.counts[HOME]?.GetItem ?? 0;
    await encrypt(pt, { keyring: keyringOn(store) });
    expect(counting.counts[HOME]?.GetItem ?? 0).toBe(homeReads);
  });

  it('home region’s DynamoDB unreachable: the replica serves at once', async () => {
    const dead = dynamoDbClientSupplier({ endpoint: 'http://127.0.0.1:9', credentials: MOTO_CREDENTIALS, requestTimeoutMs: 1000 });
    const counting = countingDynamoDb((r) => (r === HOME ? dead(r) : b.ddbSupplier(r)));
    const { store, health } = drStore({ dynamoDb: counting });
    b.kms.resetStats();
    const { ciphertext } = await encrypt(pt, { keyring: keyringOn(store) });
    expect(Buffer.from((await decrypt(ciphertext, { keyring: keyringOn(store) })).plaintext).equals(pt)).toBe(true);
    expect(kmsCalls(b.kms, 'Decrypt', REPLICA)).toBe(2);
    expect(health.snapshot().find((h) => h.region === HOME)?.lastError).toBe('ECONNREFUSED');
  });

  it('every region blackholed: one coded error within the deadline, naming the branch key and each region', async () => {
    const { store } = drStore();
    for (const r of [HOME, REPLICA]) b.kms.setFault(r, { mode: 'blackhole' });
    const keyring = keyringOn(store);
    const e = await encrypt(pt, { keyring }).then(
      () => undefined,
      (x: { code: string; message: string; causes: { region: string }[] }) => x,
    );
    expect(e?.code).toMatch(/^ENVELOPE_(TIMEOUT|KEY_STORE|KMS)$/);
    expect(e?.message).toContain(`branch key "${branchKeyId}"`);
    expect(new Set(e?.causes.map((c) => c.region))).toEqual(new Set([HOME, REPLICA]));
    expect(keyring.cache.size).toBe(0);
  });
});
