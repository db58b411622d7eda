/**
 * Interop with @aws-crypto/client-node's hierarchical keyring (`KmsHierarchicalKeyRingNode`) and
 * key store (`BranchKeyStoreNode`), both directions, on one moto_server table and one kms-local:
 * a branch key created by either store is used by the other; messages written by either side
 * decrypt with the other; and both still hold after either side versions the key (old messages
 * read their old version, new ones use the new version). Each `it` is one cell of the matrix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { BranchKeyStoreNode, CommitmentPolicy, KmsHierarchicalKeyRingNode, buildClient } from '@aws-crypto/client-node';
import { decrypt, encrypt } from '@envelope/core';
import { HierarchicalKeyring, branchKeyIdFromContext, type BranchKeyStore } from '@envelope/keyring-hierarchical';
import { MOTO_CREDENTIALS, startBackends, storeOn, tableName, type Backends } from '../packages/keyring-hierarchical/test/helpers.js';

let b: Backends;
let ours: BranchKeyStore;
let theirs: BranchKeyStoreNode;
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const REGION = 'us-east-1';

beforeAll(async () => {
  b = await startBackends([REGION]);
  const arn = (await b.createKmsKey())[REGION]!;
  const t = tableName('interop');
  ours = storeOn(b, { tableName: t, kmsKeyArn: arn });
  await ours.createStore();
  theirs = new BranchKeyStoreNode({
    logicalKeyStoreName: t,
    storage: { ddbTableName: t, ddbClient: new DynamoDBClient({ region: REGION, endpoint: b.moto.url, credentials: MOTO_CREDENTIALS }) },
    kmsConfiguration: { identifier: arn },
    keyManagement: { kmsClient: new KMSClient({ region: REGION, endpoint: b.kms.url, credentials: { ...b.kms.credentials } }) },
  });
}, 60_000);
afterAll(() => b?.stop());

type Side = 'ours' | 'SDK';
const pt = Buffer.from('hierarchical interop');
const context = { tenant: 'interop', purpose: 'matrix' };

/** Encrypt with a fresh keyring of one side (a cold cache: the store is read). */
async function write(side: Side, branchKeyId: string): Promise<Uint8Array> {
  if (side === 'ours') {
    const keyring = new HierarchicalKeyring({ keyStore: ours, branchKeyId, cacheTtlSeconds: 60 });
    return (await encrypt(pt, { keyring, encryptionContext: context })).ciphertext;
  }
  const keyring = new KmsHierarchicalKeyRingNode({ branchKeyId, keyStore: theirs, cacheLimitTtl: 60 });
  return (await sdk.encrypt(keyring, pt, { encryptionContext: context })).result;
}

async function read(side: Side, branchKeyId: string, message: Uint8Array): Promise<Buffer> {
  if (side === 'ours') {
    const keyring = new HierarchicalKeyring({ keyStore: ours, branchKeyId, cacheTtlSeconds: 60 });
    return Buffer.from((await decrypt(message, { keyring, encryptionContext: context })).plaintext);
  }
  const keyring = new KmsHierarchicalKeyRingNode({ branchKeyId, keyStore: theirs, cacheLimitTtl: 60 });
  const r = await sdk.decrypt(keyring, message);
  expect(r.messageHeader.encryptionContext).toMatchObject(context);
  return r.plaintext;
}

/** The branch key version an `aws-kms-hierarchy` EDK names (ciphertext bytes 28..44, spec "Ciphertext"). */
function versionIn(message: Uint8Array, branchKeyId: string): string {
  const m = Buffer.from(message);
  const at = m.indexOf(
    Buffer.concat([Buffer.from('aws-kms-hierarchy'), Buffer.from([0, Buffer.byteLength(branchKeyId)]), Buffer.from(branchKeyId)]),
  );
  const ctStart = at + 'aws-kms-hierarchy'.length + 2 + Buffer.byteLength(branchKeyId) + 2;
  const hex = m.subarray(ctStart + 28, ctStart + 44).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function create(side: Side, id: string): Promise<void> {
  if (side === 'ours') await ours.createKey({ branchKeyId: id, encryptionContext: { department: 'interop' } });
  else await theirs.createKey({ branchKeyIdentifier: id, encryptionContext: { department: 'interop' } });
}
async function version(side: Side, id: string): Promise<void> {
  if (side === 'ours') await ours.versionKey({ branchKeyId: id });
  else await theirs.versionKey({ branchKeyIdentifier: id });
}
async function activeVersion(id: string): Promise<string> {
  const [a, t] = [await ours.getActiveBranchKey(id), await theirs.getActiveBranchKey(id)];
  expect(t.branchKeyVersion.toString('utf8')).toBe(a.version); // both stores agree on the active version
  expect(t.encryptionContext).toEqual(a.encryptionContext);
  expect(Buffer.from(t.branchKey()).equals(a.withKey((k) => Buffer.from(k)))).toBe(true); // and on the key
  a.zeroize();
  return a.version;
}

const sides: Side[] = ['ours', 'SDK'];
for (const creator of sides) {
  for (const versioner of sides) {
    describe(`branch key created by ${creator === 'ours' ? 'our' : 'the SDK’s'} store, versioned by ${versioner === 'ours' ? 'ours' : 'the SDK’s'}`, () => {
      const id = `interop-${creator}-${versioner}`;
      const before = new Map<string, Uint8Array>();
      let v1 = '';
      it('create; both stores read the same active key', async () => {
        await create(creator, id);
        v1 = await activeVersion(id);
      });
      for (const writer of sides)
        for (const reader of sides)
          it(`${writer} writes → ${reader} reads`, async () => {
            const m = await write(writer, id);
            expect(versionIn(m, id)).toBe(v1);
            expect((await read(reader, id, m)).equals(pt)).toBe(true);
            before.set(writer, m);
          });
      let v2 = '';
      it(`VersionKey by ${versioner}; both stores see the new active version`, async () => {
        await version(versioner, id);
        v2 = await activeVersion(id);
        expect(v2).not.toBe(v1);
      });
      for (const writer of sides)
        for (const reader of sides)
          it(`after VersionKey: ${writer} writes (new version) → ${reader} reads; ${writer}'s earlier message still reads`, async () => {
            const m = await write(writer, id);
            expect(versionIn(m, id)).toBe(v2);
            expect((await read(reader, id, m)).equals(pt)).toBe(true);
            expect((await read(reader, id, before.get(writer)!)).equals(pt)).toBe(true);
          });
    });
  }
}

describe('encryption contexts whose UTF-8 and localeCompare orders differ (the SDK’s utf8Sorting)', () => {
  const mixed = { a: '1', B: '2', é: '3' };
  it('SDK (default, localeCompare order) → ours; ours (spec byte order) → SDK with utf8Sorting: true', async () => {
    await ours.createKey({ branchKeyId: 'sorting', encryptionContext: { t: 'sorting' } });
    const mine = new HierarchicalKeyring({ keyStore: ours, branchKeyId: 'sorting', cacheTtlSeconds: 60 });
    const legacy = new KmsHierarchicalKeyRingNode({ branchKeyId: 'sorting', keyStore: theirs, cacheLimitTtl: 60 });
    const bytewise = new KmsHierarchicalKeyRingNode({ branchKeyId: 'sorting', keyStore: theirs, cacheLimitTtl: 60, utf8Sorting: true });
    const fromSdk = (await sdk.encrypt(legacy, pt, { encryptionContext: mixed })).result;
    expect(Buffer.from((await decrypt(fromSdk, { keyring: mine })).plaintext).equals(pt)).toBe(true);
    const fromUs = (await encrypt(pt, { keyring: mine, encryptionContext: mixed })).ciphertext;
    expect((await sdk.decrypt(bytewise, fromUs)).plaintext.equals(pt)).toBe(true);
  });
});

describe('multi-tenant: the branch key picked from the encryption context on both sides', () => {
  it('ours (branchKeyIdFromContext) ↔ SDK (branchKeyIdSupplier)', async () => {
    for (const t of ['t-one', 't-two']) await ours.createKey({ branchKeyId: t, encryptionContext: { tenant: t } });
    const mine = new HierarchicalKeyring({ keyStore: ours, branchKeyIdSupplier: branchKeyIdFromContext('tenant'), cacheTtlSeconds: 60 });
    const sdkRing = new KmsHierarchicalKeyRingNode({
      branchKeyIdSupplier: { getBranchKeyId: (ec: Record<string, string>) => ec.tenant! },
      keyStore: theirs,
      cacheLimitTtl: 60,
    });
    for (const tenant of ['t-one', 't-two']) {
      const a = (await encrypt(pt, { keyring: mine, encryptionContext: { tenant } })).ciphertext;
      expect((await sdk.decrypt(sdkRing, a)).plaintext.equals(pt)).toBe(true);
      const s = (await sdk.encrypt(sdkRing, pt, { encryptionContext: { tenant } })).result;
      expect(Buffer.from((await decrypt(s, { keyring: mine })).plaintext).equals(pt)).toBe(true);
    }
  });
});
