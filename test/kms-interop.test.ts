/**
 * Interop with @aws-crypto/client-node's KMS keyrings, both directions, against kms-local: the
 * SDK's keyrings get KMS clients from `getClient(KMS, { endpoint, credentials })`, ours from
 * kmsClientSupplier, both pointed at the same kms-local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import {
  AlgorithmSuiteIdentifier,
  AwsKmsMrkAwareSymmetricDiscoveryKeyringNode,
  AwsKmsMrkAwareSymmetricKeyringNode,
  CommitmentPolicy,
  KMS,
  KmsKeyringNode,
  buildAwsKmsMrkAwareDiscoveryMultiKeyringNode,
  buildClient,
  getClient,
} from '@aws-crypto/client-node';
import { decrypt, encrypt } from '@envelope/core';
import { KmsDiscoveryKeyring, KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';

let kms: KmsLocal;
let east: string;
let west: string;
let mrkEast: string;
let mrkWest: string;
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2'], port: 0 });
  const c = (r: string) => new KMSClient({ region: r, endpoint: kms.url, credentials: { ...kms.credentials } });
  east = (await c('us-east-1').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  west = (await c('us-west-2').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  mrkEast = (await c('us-east-1').send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
  mrkWest = (await c('us-east-1').send(new ReplicateKeyCommand({ KeyId: mrkEast, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!.Arn!;
});
afterAll(() => kms.close());

/** The SDK's client provider: a v3 `KMS` per region on kms-local (getClient copies the config per client). */
const sdkClients = () => getClient(KMS, { endpoint: kms.url, credentials: { ...kms.credentials } } as never);
const sdkClient = (region: string) => new KMS({ region, endpoint: kms.url, credentials: { ...kms.credentials } });
const ours = () => kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials });
const pt = Buffer.from('kms interop both ways');
const same = (b: Uint8Array) => Buffer.from(b).equals(pt);
const suites = [
  ['signed committing (0x0578)', 0x0578, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384],
  ['unsigned committing (0x0478)', 0x0478, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY],
] as const;

describe('KMS keyring interop with @aws-crypto/client-node on kms-local', () => {
  for (const [name, ourSuite, sdkSuite] of suites) {
    it(`${name}: SDK KmsKeyringNode (generator + key) → our KmsKeyring (each key alone) and KmsDiscoveryKeyring`, async () => {
      const sdkKeyring = new KmsKeyringNode({ generatorKeyId: east, keyIds: [west], clientProvider: sdkClients() });
      const { result } = await sdk.encrypt(sdkKeyring, pt, { encryptionContext: { who: 'sdk' }, suiteId: sdkSuite });
      for (const key of [east, west]) {
        const out = await decrypt(result, {
          keyring: new KmsKeyring({ clientSupplier: ours(), keyIds: [key] }),
          encryptionContext: { who: 'sdk' },
        });
        expect(same(out.plaintext)).toBe(true);
      }
      const disco = new KmsDiscoveryKeyring({
        clientSupplier: ours(),
        regions: ['us-west-2'],
        discoveryFilter: { partition: 'aws', accountIds: [kms.accountId] },
      });
      expect(same((await decrypt(result, { keyring: disco })).plaintext)).toBe(true);
    });

    it(`${name}: our KmsKeyring → SDK KmsKeyringNode (each key alone) and its discovery keyring`, async () => {
      const { ciphertext } = await encrypt(pt, {
        keyring: new KmsKeyring({ clientSupplier: ours(), generatorKeyId: east, keyIds: [west] }),
        encryptionContext: { who: 'us' },
        suite: ourSuite,
      });
      for (const key of [east, west]) {
        const r = await sdk.decrypt(new KmsKeyringNode({ keyIds: [key], clientProvider: sdkClients() }), ciphertext);
        expect(r.plaintext.equals(pt)).toBe(true);
        expect(r.messageHeader.encryptionContext.who).toBe('us');
        expect(r.messageHeader.suiteId).toBe(sdkSuite);
      }
      const r = await sdk.decrypt(new KmsKeyringNode({ discovery: true, clientProvider: sdkClients() }), ciphertext);
      expect(r.plaintext.equals(pt)).toBe(true);
    });
  }

  it('multi-region keys: ours written in us-east-1, the SDK MRK-aware keyring reads it in us-west-2, and back', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: ours(), generatorKeyId: mrkEast }) });
    const westSdk = new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: mrkWest, client: sdkClient('us-west-2') });
    expect((await sdk.decrypt(westSdk, ciphertext)).plaintext.equals(pt)).toBe(true);
    const eastSdk = new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: mrkEast, client: sdkClient('us-east-1') });
    const { result } = await sdk.encrypt(eastSdk, pt);
    const out = await decrypt(result, { keyring: new KmsKeyring({ clientSupplier: ours(), keyIds: [mrkWest] }) });
    expect(same(out.plaintext)).toBe(true);
  });

  it('MRK discovery: the SDK’s MRK-aware discovery keyrings read ours in the other region; ours reads theirs', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: ours(), generatorKeyId: mrkEast }) });
    const filter = { partition: 'aws', accountIDs: [kms.accountId] };
    const single = new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: sdkClient('us-west-2'), discoveryFilter: filter });
    expect((await sdk.decrypt(single, ciphertext)).plaintext.equals(pt)).toBe(true);
    const multi = buildAwsKmsMrkAwareDiscoveryMultiKeyringNode({
      regions: ['us-west-2'],
      clientProvider: sdkClients(),
      discoveryFilter: filter,
    });
    expect((await sdk.decrypt(multi, ciphertext)).plaintext.equals(pt)).toBe(true);

    const { result } = await sdk.encrypt(new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: mrkWest, client: sdkClient('us-west-2') }), pt);
    const disco = new KmsDiscoveryKeyring({
      clientSupplier: ours(),
      regions: ['us-east-1'],
      discoveryFilter: { partition: 'aws', accountIds: [kms.accountId] },
    });
    expect(same((await decrypt(result, { keyring: disco })).plaintext)).toBe(true);
  });
});
