/**
 * The branch key store against moto_server (DynamoDB) and kms-local (KMS), over real HTTP with the
 * real SDK clients: the table, the items (schema, attribute types, encryption context), CreateKey,
 * VersionKey and the reads, and every bad input as a coded error that names the branch key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { isEnvelopeError, type EnvelopeError } from '@envelope/core';
import { BranchKeyStore, HierarchicalKeyring, type DynamoDbClientSupplier } from '../src/index.js';
import { MOTO_CREDENTIALS, countingDynamoDb, kmsCalls, startBackends, storeOn, tableName, type Backends } from './helpers.js';

let b: Backends;
let ddb: DynamoDBClient;
let arn: string;
let otherArn: string;
beforeAll(async () => {
  b = await startBackends(['us-east-1']);
  ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: b.moto.url, credentials: MOTO_CREDENTIALS });
  arn = (await b.createKmsKey())['us-east-1']!;
  otherArn = (await b.createKmsKey())['us-east-1']!;
}, 60_000);
afterAll(async () => {
  ddb?.destroy();
  await b?.stop();
});

async function freshStore(o: { kmsKeyArn?: string; dynamoDb?: DynamoDbClientSupplier; logicalKeyStoreName?: string } = {}) {
  const t = tableName();
  const store = storeOn(b, { tableName: t, kmsKeyArn: o.kmsKeyArn ?? arn, ...o });
  await store.createStore();
  return store;
}
const item = async (t: string, id: string, type: string) =>
  (await ddb.send(new GetItemCommand({ TableName: t, Key: { 'branch-key-id': { S: id }, type: { S: type } } }))).Item;
const failure = async (p: Promise<unknown>): Promise<EnvelopeError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isEnvelopeError(e)) throw new Error(`expected an EnvelopeError, got ${String(e)}`);
  return e;
};

describe('CreateKeyStore', () => {
  it('creates the table with the key-store schema, then finds it again', async () => {
    const t = tableName();
    const store = storeOn(b, { tableName: t, kmsKeyArn: arn });
    const first = await store.createStore();
    expect(first).toMatchObject({ created: true });
    expect(first.tableArn).toMatch(new RegExp(`:table/${t}$`));
    expect(await store.createStore()).toEqual({ ...first, created: false });
  });

  it('a table without the schema is refused, by CreateKeyStore and by reads', async () => {
    const t = tableName('noschema');
    await ddb.send(
      new CreateTableCommand({
        TableName: t,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const store = storeOn(b, { tableName: t, kmsKeyArn: arn });
    const e1 = await failure(store.createStore());
    expect([e1.code, e1.causes[0]!.reason]).toEqual(['ENVELOPE_KEY_STORE', 'TableSchema']);
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId: 'tenant-1', cacheTtlSeconds: 60 });
    const e2 = await failure(keyring.activeBranchKey('tenant-1'));
    expect([e2.code, e2.causes[0]!.reason]).toEqual(['ENVELOPE_KEY_STORE', 'TableSchema']);
    expect(e2.message).toContain('branch key "tenant-1"');
    expect(keyring.cache.size).toBe(0);
  });

  it('a table that does not exist: TableNotFound', async () => {
    const store = storeOn(b, { tableName: tableName('missing'), kmsKeyArn: arn });
    const e = await failure(store.getActiveBranchKey('x'));
    expect(e.causes[0]!.reason).toBe('TableNotFound');
  });
});

describe('CreateKey and VersionKey', () => {
  it('writes the three items of the record format, each bound by KMS to every attribute and the logical name', async () => {
    const store = await freshStore({ logicalKeyStoreName: 'logical-store' });
    const { branchKeyId, version } = await store.createKey({ encryptionContext: { department: 'billing' } });
    const active = (await item(store.tableName, branchKeyId, 'branch:ACTIVE'))!;
    const decryptOnly = (await item(store.tableName, branchKeyId, `branch:version:${version}`))!;
    const beacon = (await item(store.tableName, branchKeyId, 'beacon:ACTIVE'))!;
    for (const it of [active, decryptOnly, beacon]) {
      expect(it['branch-key-id']).toEqual({ S: branchKeyId });
      expect(it['kms-arn']).toEqual({ S: arn });
      expect(it['hierarchy-version']).toEqual({ N: '1' });
      expect(it['create-time']!.S).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(it['aws-crypto-ec:department']).toEqual({ S: 'billing' });
      expect(it.enc!.B).toBeInstanceOf(Uint8Array);
    }
    expect(active.version).toEqual({ S: `branch:version:${version}` });
    expect(decryptOnly.version).toBeUndefined();
    expect(Object.keys(active).sort()).toEqual(
      ['branch-key-id', 'type', 'enc', 'kms-arn', 'create-time', 'hierarchy-version', 'version', 'aws-crypto-ec:department'].sort(),
    );
    // KMS opens ACTIVE exactly under: every attribute but enc, as strings, plus tablename = the logical name.
    const kms = new KMSClient({ region: 'us-east-1', endpoint: b.kms.url, credentials: { ...b.kms.credentials } });
    const context = (it: Record<string, { S?: string; N?: string }>) => ({
      ...Object.fromEntries(Object.entries(it).flatMap(([k, v]) => (k === 'enc' ? [] : [[k, v.S ?? v.N!]]))),
      tablename: 'logical-store',
    });
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: active.enc!.B, EncryptionContext: context(active), KeyId: arn }));
    const openedToo = await kms.send(
      new DecryptCommand({ CiphertextBlob: decryptOnly.enc!.B, EncryptionContext: context(decryptOnly), KeyId: arn }),
    );
    expect(Buffer.from(opened.Plaintext!).equals(Buffer.from(openedToo.Plaintext!))).toBe(true); // ACTIVE is the same key
    kms.destroy();
    const m = await store.getActiveBranchKey(branchKeyId);
    expect([m.version, m.encryptionContext]).toEqual([version, { department: 'billing' }]);
  });

  it('a chosen id needs an encryption context; an id that exists is AlreadyExists', async () => {
    const store = await freshStore();
    expect((await failure(store.createKey({ branchKeyId: 'tenant-1' }))).code).toBe('ENVELOPE_INVALID_ARGUMENT');
    await store.createKey({ branchKeyId: 'tenant-1', encryptionContext: { tenant: '1' } });
    const e = await failure(store.createKey({ branchKeyId: 'tenant-1', encryptionContext: { tenant: '1' } }));
    expect([e.code, e.causes[0]!.reason]).toEqual(['ENVELOPE_KEY_STORE', 'AlreadyExists']);
    expect(e.message).toContain('branch key "tenant-1"');
  });

  it('VersionKey: a new active version; every old version still reads; the context carries over', async () => {
    const store = await freshStore();
    const { branchKeyId, version: v1 } = await store.createKey({ branchKeyId: 't', encryptionContext: { tenant: 't' } });
    const { version: v2 } = await store.versionKey({ branchKeyId });
    expect(v2).not.toBe(v1);
    const active = await store.getActiveBranchKey(branchKeyId);
    expect([active.version, active.encryptionContext]).toEqual([v2, { tenant: 't' }]);
    const old = await store.getBranchKeyVersion(branchKeyId, v1);
    expect(old.withKey((k) => Buffer.from(k)).equals(active.withKey((k) => Buffer.from(k)))).toBe(false);
    const e = await failure(store.versionKey({ branchKeyId: 'nope' }));
    expect(e.causes[0]!.reason).toBe('BranchKeyNotFound');
  });

  it('VersionKey racing another VersionKey: one wins, the other is ConcurrentModification and writes nothing', async () => {
    const counting = countingDynamoDb(b.ddbSupplier);
    const t = tableName();
    const store = storeOn(b, { tableName: t, kmsKeyArn: arn });
    await store.createStore();
    const { branchKeyId } = await store.createKey();
    let raced: string | undefined;
    // A DynamoDB that lets a rival VersionKey commit between our read and our write.
    const racing: DynamoDbClientSupplier = (r) => {
      const c = counting.supplier(r);
      return {
        ...c,
        transactWriteItems: async (i, s) => {
          raced ??= (await store.versionKey({ branchKeyId })).version;
          return c.transactWriteItems(i, s);
        },
      };
    };
    const loser = new BranchKeyStore({ ...store.info(), kms: b.kmsSupplier, dynamoDb: racing });
    const e = await failure(loser.versionKey({ branchKeyId }));
    expect(e.causes[0]!.reason).toBe('ConcurrentModification');
    expect((await store.getActiveBranchKey(branchKeyId)).version).toBe(raced);
    // The loser's transaction wrote neither of its items: ACTIVE, beacon and the two winners' versions.
    const q = await ddb.send(
      new QueryCommand({
        TableName: t,
        KeyConditionExpression: '#pk = :id',
        ExpressionAttributeNames: { '#pk': 'branch-key-id' },
        ExpressionAttributeValues: { ':id': { S: branchKeyId } },
      }),
    );
    expect(q.Items!.map((i) => i.type!.S!.replace(/[0-9a-f-]{36}$/, 'V')).sort()).toEqual(
      ['beacon:ACTIVE', 'branch:ACTIVE', 'branch:version:V', 'branch:version:V'].sort(),
    );
  });
});

describe('bad input: a coded error naming the branch key, and nothing cached', () => {
  async function setUp() {
    const counting = countingDynamoDb(b.ddbSupplier);
    const store = await freshStore({ dynamoDb: counting.supplier });
    const { branchKeyId, version } = await store.createKey({ branchKeyId: `bk-${tableName()}`, encryptionContext: { tenant: 'acme' } });
    const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId, cacheTtlSeconds: 60 });
    counting.reset();
    return { store, branchKeyId, version, keyring, counting };
  }

  /** Fails twice with the same reason, reading DynamoDB each time: nothing was cached. */
  async function failsUncached(
    s: Awaited<ReturnType<typeof setUp>>,
    read: () => Promise<unknown>,
    reason: string,
    code = 'ENVELOPE_KEY_STORE',
  ) {
    for (let i = 1; i <= 2; i++) {
      const e = await failure(read());
      expect([e.code, e.causes[0]!.reason]).toEqual([code, reason]);
      expect(e.message).toContain(`branch key ${JSON.stringify(s.branchKeyId)}`);
      expect(s.keyring.cache.size).toBe(0);
      expect(s.counting.total('GetItem')).toBe(i);
    }
  }

  it('an item whose encryption context was changed: TamperedItem', async () => {
    const s = await setUp();
    await ddb.send(
      new UpdateItemCommand({
        TableName: s.store.tableName,
        Key: { 'branch-key-id': { S: s.branchKeyId }, type: { S: 'branch:ACTIVE' } },
        UpdateExpression: 'SET #t = :v',
        ExpressionAttributeNames: { '#t': 'aws-crypto-ec:tenant' },
        ExpressionAttributeValues: { ':v': { S: 'evil' } },
      }),
    );
    await failsUncached(s, () => s.keyring.activeBranchKey(s.branchKeyId), 'TamperedItem');
  });

  it('an item of another logical key store (copied in): TamperedItem', async () => {
    const s = await setUp();
    const elsewhere = storeOn(b, { tableName: s.store.tableName, logicalKeyStoreName: 'another-store', kmsKeyArn: arn });
    const keyring = new HierarchicalKeyring({ keyStore: elsewhere, branchKeyId: s.branchKeyId, cacheTtlSeconds: 60 });
    const e = await failure(keyring.activeBranchKey(s.branchKeyId));
    expect(e.causes[0]!.reason).toBe('TamperedItem');
    expect(keyring.cache.size).toBe(0);
  });

  it('a missing version: VersionNotFound, naming the version', async () => {
    const s = await setUp();
    await ddb.send(
      new DeleteItemCommand({
        TableName: s.store.tableName,
        Key: { 'branch-key-id': { S: s.branchKeyId }, type: { S: `branch:version:${s.version}` } },
      }),
    );
    await failsUncached(s, () => s.keyring.branchKeyVersion(s.branchKeyId, s.version), 'VersionNotFound');
    const e = await failure(s.keyring.branchKeyVersion(s.branchKeyId, s.version));
    expect(e.message).toContain(`version ${s.version}`);
  });

  it('a branch key that does not exist: BranchKeyNotFound', async () => {
    const s = await setUp();
    const keyring = new HierarchicalKeyring({ keyStore: s.store, branchKeyId: 'nobody', cacheTtlSeconds: 60 });
    const e = await failure(keyring.activeBranchKey('nobody'));
    expect([e.causes[0]!.reason, keyring.cache.size]).toEqual(['BranchKeyNotFound', 0]);
  });

  it('a KMS key that is not the store’s: KmsKeyMismatch, before any KMS call', async () => {
    const s = await setUp();
    const wrongKey = storeOn(b, { tableName: s.store.tableName, kmsKeyArn: otherArn, dynamoDb: s.counting.supplier });
    const keyring = new HierarchicalKeyring({ keyStore: wrongKey, branchKeyId: s.branchKeyId, cacheTtlSeconds: 60 });
    b.kms.resetStats();
    for (const read of [() => keyring.activeBranchKey(s.branchKeyId), () => keyring.branchKeyVersion(s.branchKeyId, s.version)]) {
      const e = await failure(read());
      expect([e.code, e.causes[0]!.reason]).toEqual(['ENVELOPE_KEY_STORE', 'KmsKeyMismatch']);
      expect(e.message).toContain(otherArn);
    }
    expect(kmsCalls(b.kms, 'Decrypt')).toBe(0);
    expect(keyring.cache.size).toBe(0);
    expect((await failure(wrongKey.versionKey({ branchKeyId: s.branchKeyId }))).causes[0]!.reason).toBe('KmsKeyMismatch');
  });

  it('items that break the record format: MalformedItem, naming the field', async () => {
    const s = await setUp();
    const key = { 'branch-key-id': { S: s.branchKeyId }, type: { S: 'branch:ACTIVE' } };
    const original = (await item(s.store.tableName, s.branchKeyId, 'branch:ACTIVE'))!;
    const cases: [string, Record<string, unknown>][] = [
      ['enc', { ...original, enc: undefined }],
      ['hierarchy-version', { ...original, 'hierarchy-version': { N: '2' } }],
      ['version', { ...original, version: { S: 'branch:version:not-a-uuid' } }],
      ['kms-arn', { ...original, 'kms-arn': { S: 'alias/x' } }],
      ['a list attribute', { ...original, extra: { L: [] } }],
    ];
    for (const [what, it] of cases) {
      const clean = Object.fromEntries(Object.entries(it).filter(([, v]) => v !== undefined)) as Record<string, never>;
      await ddb.send(new PutItemCommand({ TableName: s.store.tableName, Item: { ...clean, ...key } }));
      const e = await failure(s.keyring.activeBranchKey(s.branchKeyId));
      expect([what, e.causes[0]!.reason]).toEqual([what, 'MalformedItem']);
      expect(s.keyring.cache.size).toBe(0);
    }
  });

  it('VersionKey of a tampered active item writes nothing', async () => {
    const s = await setUp();
    await ddb.send(
      new UpdateItemCommand({
        TableName: s.store.tableName,
        Key: { 'branch-key-id': { S: s.branchKeyId }, type: { S: 'branch:ACTIVE' } },
        UpdateExpression: 'SET #c = :v',
        ExpressionAttributeNames: { '#c': 'create-time' },
        ExpressionAttributeValues: { ':v': { S: '2020-01-01T00:00:00.000000Z' } },
      }),
    );
    const e = await failure(s.store.versionKey({ branchKeyId: s.branchKeyId }));
    expect(e.causes[0]!.reason).toBe('TamperedItem');
    expect(s.counting.total('TransactWriteItems')).toBe(0);
  });
});
