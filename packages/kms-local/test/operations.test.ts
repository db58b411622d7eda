import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { startKmsLocal, type KmsLocal } from '../src/index.js';
import { client } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2', 'eu-west-1'], port: 0 });
});
afterAll(() => kms.close());

const errName = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode}`);

describe('kms-local operations through @aws-sdk/client-kms', () => {
  it('CreateKey, DescribeKey, ListKeys; MultiRegion gives an mrk- id', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({ Description: 'test' }));
    expect(k).toMatchObject({ Enabled: true, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', MultiRegion: false, Description: 'test' });
    expect(k!.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${k!.KeyId}`);
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    expect(m!.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(m!.MultiRegionConfiguration?.MultiRegionKeyType).toBe('PRIMARY');
    expect((await east.send(new DescribeKeyCommand({ KeyId: k!.Arn }))).KeyMetadata!.KeyId).toBe(k!.KeyId);
    const keys = (await east.send(new ListKeysCommand({}))).Keys!.map((x) => x.KeyId);
    expect(keys).toEqual(expect.arrayContaining([k!.KeyId, m!.KeyId]));
    // Regions are separate: the key is not in us-west-2.
    expect(await errName(client(kms, 'us-west-2').send(new DescribeKeyCommand({ KeyId: k!.KeyId })))).toBe('NotFoundException 400');
  });

  it('aliases resolve wherever KeyId is accepted', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    await east.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: k!.KeyId }));
    const g = await east.send(new GenerateDataKeyCommand({ KeyId: 'alias/orders', KeySpec: 'AES_256' }));
    expect(g.KeyId).toBe(k!.Arn);
    expect((await east.send(new ListAliasesCommand({ KeyId: k!.KeyId }))).Aliases).toEqual([
      { AliasName: 'alias/orders', AliasArn: 'arn:aws:kms:us-east-1:111122223333:alias/orders', TargetKeyId: k!.KeyId },
    ]);
    expect(await errName(east.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: k!.KeyId })))).toBe('AlreadyExistsException 400');
    expect(await errName(east.send(new EncryptCommand({ KeyId: 'alias/nope', Plaintext: Buffer.from('x') })))).toBe('NotFoundException 400');
  });

  it('GenerateDataKey (+WithoutPlaintext), Encrypt, Decrypt with and without KeyId, ReEncrypt', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: a } = await east.send(new CreateKeyCommand({}));
    const { KeyMetadata: b } = await east.send(new CreateKeyCommand({}));
    const ec = { purpose: 'test' };
    const g = await east.send(new GenerateDataKeyCommand({ KeyId: a!.Arn, NumberOfBytes: 32, EncryptionContext: ec }));
    expect(g.Plaintext).toHaveLength(32);
    const d1 = await east.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: ec }));
    expect(Buffer.from(d1.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);
    expect(d1.KeyId).toBe(a!.Arn);
    const d2 = await east.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: ec, KeyId: a!.Arn }));
    expect(Buffer.from(d2.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);
    const w = await east.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: a!.KeyId, KeySpec: 'AES_128' }));
    expect(w.CiphertextBlob!.length).toBeGreaterThan(16);
    expect((w as { Plaintext?: unknown }).Plaintext).toBeUndefined();
    const e = await east.send(new EncryptCommand({ KeyId: a!.KeyId, Plaintext: Buffer.from('secret'), EncryptionContext: ec }));
    const r = await east.send(new ReEncryptCommand({ CiphertextBlob: e.CiphertextBlob, SourceEncryptionContext: ec, DestinationKeyId: b!.KeyId }));
    expect(r).toMatchObject({ SourceKeyId: a!.Arn, KeyId: b!.Arn });
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: r.CiphertextBlob }))).Plaintext!).toString()).toBe('secret');
  });

  it('ciphertexts are bound to the context and the key', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: a } = await east.send(new CreateKeyCommand({}));
    const { KeyMetadata: b } = await east.send(new CreateKeyCommand({}));
    const e = await east.send(new EncryptCommand({ KeyId: a!.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { t: '1' } }));
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: { t: '2' } })))).toBe('InvalidCiphertextException 400');
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob })))).toBe('InvalidCiphertextException 400');
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: { t: '1' }, KeyId: b!.Arn })))).toBe('IncorrectKeyException 400');
    const tampered = Buffer.from(e.CiphertextBlob!);
    tampered[tampered.length - 1]! ^= 1;
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { t: '1' } })))).toBe('InvalidCiphertextException 400');
  });

  it('ReplicateKey: the replica (same mrk id, its own ARN) decrypts what the primary wrote, and vice versa', async () => {
    const east = client(kms, 'us-east-1');
    const eu = client(kms, 'eu-west-1');
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    const { ReplicaKeyMetadata: r } = await east.send(new ReplicateKeyCommand({ KeyId: m!.Arn, ReplicaRegion: 'eu-west-1' }));
    expect(r!.Arn).toBe(`arn:aws:kms:eu-west-1:111122223333:key/${m!.KeyId}`);
    expect(r!.MultiRegionConfiguration?.MultiRegionKeyType).toBe('REPLICA');
    const g = await east.send(new GenerateDataKeyCommand({ KeyId: m!.Arn, NumberOfBytes: 32 }));
    const d = await eu.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, KeyId: r!.Arn }));
    expect(Buffer.from(d.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);
    expect(d.KeyId).toBe(r!.Arn);
    const back = await eu.send(new EncryptCommand({ KeyId: r!.Arn, Plaintext: Buffer.from('dr') }));
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext!).toString()).toBe('dr');
    const { KeyMetadata: plain } = await east.send(new CreateKeyCommand({}));
    expect(await errName(east.send(new ReplicateKeyCommand({ KeyId: plain!.KeyId, ReplicaRegion: 'eu-west-1' })))).toBe('UnsupportedOperationException 400');
  });

  it('rotation: new material for new ciphertexts, old ones still decrypt', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    await east.send(new EnableKeyRotationCommand({ KeyId: k!.KeyId }));
    expect((await east.send(new GetKeyRotationStatusCommand({ KeyId: k!.KeyId }))).KeyRotationEnabled).toBe(true);
    const before = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('old') }));
    await east.send(new RotateKeyOnDemandCommand({ KeyId: k!.KeyId }));
    const after = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('new') }));
    expect(Buffer.from(before.CiphertextBlob!).subarray(0, 40).equals(Buffer.from(after.CiphertextBlob!).subarray(0, 40))).toBe(false);
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext!).toString()).toBe('old');
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).Plaintext!).toString()).toBe('new');
  });

  it('DisableKey / EnableKey / ScheduleKeyDeletion', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    const e = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') }));
    await east.send(new DisableKeyCommand({ KeyId: k!.KeyId }));
    expect(await errName(east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') })))).toBe('DisabledException 400');
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob })))).toBe('DisabledException 400');
    await east.send(new EnableKeyCommand({ KeyId: k!.KeyId }));
    await east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob }));
    const s = await east.send(new ScheduleKeyDeletionCommand({ KeyId: k!.KeyId, PendingWindowInDays: 7 }));
    expect(s.KeyState).toBe('PendingDeletion');
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob })))).toBe('KMSInvalidStateException 400');
    expect(await errName(east.send(new ScheduleKeyDeletionCommand({ KeyId: k!.KeyId, PendingWindowInDays: 3 })))).toBe('ValidationException 400');
  });

  it('validation errors: data key size, plaintext size', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId })))).toBe('ValidationException 400');
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 2000 })))).toBe('ValidationException 400');
    expect(await errName(east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.alloc(4097) })))).toBe('ValidationException 400');
  });
});
