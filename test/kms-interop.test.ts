/**
 * Interop with @aws-crypto/client-node's KMS keyrings, both directions, against kms-local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { AwsKmsMrkAwareSymmetricKeyringNode, CommitmentPolicy, KMS, KmsKeyringNode, buildClient, getClient } from '@aws-crypto/client-node';
import { decrypt, encrypt } from '@envelope/core';
import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';

let kms: KmsLocal;
let east: string;
let west: string;
let mrkEast: string;
let mrkWest: string;
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2'], port: 0 });
  const c = (r: string) => new KMSClient({ region: r, endpoint: kms.url, credentials: kms.credentials });
  east = (await c('us-east-1').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  west = (await c('us-west-2').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  mrkEast = (await c('us-east-1').send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
  mrkWest = (await c('us-east-1').send(new ReplicateKeyCommand({ KeyId: mrkEast, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!.Arn!;
});
afterAll(() => kms.close());

const sdkClients = () => getClient(KMS, { endpoint: kms.url, credentials: kms.credentials } as never);
const ours = () => kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials });
const pt = Buffer.from('kms interop both ways');

describe('KMS keyring interop with @aws-crypto/client-node on kms-local', () => {
  it('SDK KmsKeyringNode (generator + key) → our KmsKeyring, each key alone', async () => {
    const sdkKeyring = new KmsKeyringNode({ generatorKeyId: east, keyIds: [west], clientProvider: sdkClients() });
    const { result } = await sdk.encrypt(sdkKeyring, pt, { encryptionContext: { who: 'sdk' } });
    for (const key of [east, west]) {
      const out = await decrypt(result, { keyring: new KmsKeyring({ clientSupplier: ours(), keyIds: [key] }), encryptionContext: { who: 'sdk' } });
      expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
    }
  });

  it('our KmsKeyring → SDK KmsKeyringNode, each key alone', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: ours(), generatorKeyId: east, keyIds: [west] }), encryptionContext: { who: 'us' } });
    for (const key of [east, west]) {
      const r = await sdk.decrypt(new KmsKeyringNode({ keyIds: [key], clientProvider: sdkClients() }), ciphertext);
      expect(r.plaintext.equals(pt)).toBe(true);
      expect(r.messageHeader.encryptionContext.who).toBe('us');
    }
  });

  it('multi-region keys: ours written in us-east-1, the SDK MRK-aware keyring reads it in us-west-2, and back', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: ours(), generatorKeyId: mrkEast }) });
    const westSdk = new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: mrkWest, client: new KMS({ region: 'us-west-2', endpoint: kms.url, credentials: kms.credentials }) });
    expect((await sdk.decrypt(westSdk, ciphertext)).plaintext.equals(pt)).toBe(true);
    const eastSdk = new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: mrkEast, client: new KMS({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials }) });
    const { result } = await sdk.encrypt(eastSdk, pt);
    const out = await decrypt(result, { keyring: new KmsKeyring({ clientSupplier: ours(), keyIds: [mrkWest] }) });
    expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
  });
});
