/**
 * The aws-kms-hierarchical configuration type: its schema (coded errors naming the path), its
 * IAM description, and a keyring built only from the standard AWS_ENDPOINT_URL_* variables,
 * round-tripping against moto_server and kms-local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decrypt, encrypt, isEnvelopeError } from '@envelope/core';
import { buildKeyStore, buildKeyring, createRegistry } from '../src/index.js';
import { startBackends, type Backends } from '../../keyring-hierarchical/test/helpers.js';

const arn = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1111';
const keyStore = { tableName: 'branch-keys', logicalKeyStoreName: 'store', kmsKeyArn: arn };
const hier = (o: Record<string, unknown> = {}) => ({ type: 'aws-kms-hierarchical', branchKeyId: 'bk', keyStore, ...o });

async function configError(config: unknown): Promise<string> {
  const e = await buildKeyring(config).then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isEnvelopeError(e, 'ENVELOPE_CONFIG')) throw new Error(`expected ENVELOPE_CONFIG, got ${String(e)}`);
  return e.message;
}

describe('schema', () => {
  it('exactly one of branchKeyId and branchKeyIdFrom; a key ARN, not an alias; no unknown fields', async () => {
    expect(await configError(hier({ branchKeyIdFrom: 'tenant' }))).toMatch(/^keyring\.branchKeyId: give exactly one/);
    expect(await configError(hier({ branchKeyId: undefined }))).toMatch(/^keyring\.branchKeyId: give exactly one/);
    expect(await configError(hier({ keyStore: { ...keyStore, kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:alias/x' } }))).toMatch(
      /^keyring\.keyStore\.kmsKeyArn: expected a KMS key ARN/,
    );
    expect(await configError(hier({ keyStore: { ...keyStore, tableName: 'a b' } }))).toMatch(/^keyring\.keyStore\.tableName/);
    expect(await configError(hier({ cacheTtlSeconds: 0 }))).toMatch(/^keyring\.cacheTtlSeconds/);
    expect(await configError(hier({ extra: 1 }))).toMatch(/extra/);
    expect(await configError(hier({ keyStore: { ...keyStore, replicaRegions: ['nowhere'] } }))).toMatch(/replicaRegions\[0\]/);
  });

  it('describes least privilege: GetItem on the table and Decrypt under the store’s name, in every replica region', async () => {
    const d = await createRegistry().describe(hier({ keyStore: { ...keyStore, replicaRegions: ['eu-west-1'] } }));
    expect(d).toHaveLength(1);
    expect(d[0]!.description.iam).toEqual([
      {
        sid: 'ReadBranchKeys',
        actions: ['dynamodb:GetItem'],
        resources: [
          'arn:aws:dynamodb:us-east-1:111122223333:table/branch-keys',
          'arn:aws:dynamodb:eu-west-1:111122223333:table/branch-keys',
        ],
      },
      {
        sid: 'UnwrapBranchKeys',
        actions: ['kms:Decrypt'],
        resources: [arn, 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1111'],
        condition: { StringEquals: { 'kms:EncryptionContext:tablename': 'store' } },
      },
    ]);
  });
});

describe('built from the environment', () => {
  let b: Backends;
  beforeAll(async () => {
    b = await startBackends(['us-east-1']);
  }, 60_000);
  afterAll(() => b?.stop());

  it('AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_KMS point the store at moto_server and kms-local', async () => {
    const kmsKeyArn = (await b.createKmsKey())['us-east-1']!;
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: b.moto.url,
      AWS_ENDPOINT_URL_KMS: b.kms.url,
      AWS_ACCESS_KEY_ID: b.kms.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: b.kms.credentials.secretAccessKey,
    };
    const store = { tableName: 'env-store', logicalKeyStoreName: 'env-store', kmsKeyArn };
    const admin = await buildKeyStore(store, { env });
    await admin.createStore();
    const { branchKeyId } = await admin.createKey({ branchKeyId: 'tenant-env', encryptionContext: { tenant: 'env' } });
    const keyring = await buildKeyring({ type: 'aws-kms-hierarchical', branchKeyIdFrom: 'tenant', keyStore: store }, { env });
    const { ciphertext } = await encrypt(Buffer.from('from env'), { keyring, encryptionContext: { tenant: branchKeyId } });
    expect(Buffer.from((await decrypt(ciphertext, { keyring })).plaintext).toString()).toBe('from env');
    // The store's own endpoint fields win over the variables (here one that points nowhere).
    const pinned = await buildKeyring(
      { type: 'aws-kms-hierarchical', branchKeyId, keyStore: { ...store, dynamodbEndpoint: b.moto.url, kmsEndpoint: b.kms.url } },
      {
        env: {
          AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
          AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9',
        },
      },
    );
    expect(Buffer.from((await decrypt(ciphertext, { keyring: pinned })).plaintext).toString()).toBe('from env');
  });
});
