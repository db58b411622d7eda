import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { startKmsLocal, type KmsLocal } from '../src/index.js';
import { client, errName } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2', 'eu-west-1'], port: 0 });
});
afterAll(() => kms.close());

const text = (p: Uint8Array | undefined): string => Buffer.from(p!).toString();

describe('multi-region keys', () => {
  it('ReplicateKey: same mrk id, its own ARN; each side decrypts what the other wrote', async () => {
    const east = client(kms, 'us-east-1');
    const eu = client(kms, 'eu-west-1');
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    const { ReplicaKeyMetadata: r } = await east.send(new ReplicateKeyCommand({ KeyId: m!.Arn, ReplicaRegion: 'eu-west-1' }));
    expect(r!.KeyId).toBe(m!.KeyId);
    expect(r!.Arn).toBe(`arn:aws:kms:eu-west-1:111122223333:key/${m!.KeyId}`);
    expect(r!.MultiRegionConfiguration).toMatchObject({ MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: m!.Arn, Region: 'us-east-1' } });
    const desc = (await east.send(new DescribeKeyCommand({ KeyId: m!.KeyId }))).KeyMetadata!;
    expect(desc.MultiRegionConfiguration!.ReplicaKeys).toEqual([{ Arn: r!.Arn, Region: 'eu-west-1' }]);

    const g = await east.send(new GenerateDataKeyCommand({ KeyId: m!.Arn, NumberOfBytes: 32, EncryptionContext: { c: '1' } }));
    const d = await eu.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, KeyId: r!.Arn, EncryptionContext: { c: '1' } }));
    expect(Buffer.from(d.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);
    expect(d.KeyId).toBe(r!.Arn); // the ARN of the key in the request's region
    const back = await eu.send(new EncryptCommand({ KeyId: r!.Arn, Plaintext: Buffer.from('dr') }));
    expect(text((await east.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext)).toBe('dr');
    // A region without a replica does not know the key.
    expect(
      await errName(client(kms, 'us-west-2').send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: { c: '1' } }))),
    ).toBe('AccessDeniedException 400');
  });

  it('ReplicateKey refuses single-region keys, replicas, duplicates and unknown regions', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: plain } = await east.send(new CreateKeyCommand({}));
    expect(await errName(east.send(new ReplicateKeyCommand({ KeyId: plain!.KeyId, ReplicaRegion: 'eu-west-1' })))).toBe(
      'UnsupportedOperationException 400',
    );
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    await east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'us-west-2' }));
    expect(await errName(east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'us-west-2' })))).toBe(
      'AlreadyExistsException 400',
    );
    expect(await errName(east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'ap-south-1' })))).toBe(
      'UnsupportedOperationException 400',
    );
    expect(await errName(east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'us-east-1' })))).toBe(
      'ValidationException 400',
    );
    const west = client(kms, 'us-west-2');
    expect(await errName(west.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'eu-west-1' })))).toBe(
      'UnsupportedOperationException 400',
    );
  });
});

describe('rotation', () => {
  it('RotateKeyOnDemand: new material for new ciphertexts, old ones still decrypt (and re-encrypt)', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    expect((await east.send(new GetKeyRotationStatusCommand({ KeyId: k!.KeyId }))).KeyRotationEnabled).toBe(false);
    await east.send(new EnableKeyRotationCommand({ KeyId: k!.KeyId }));
    expect((await east.send(new GetKeyRotationStatusCommand({ KeyId: k!.KeyId }))).KeyRotationEnabled).toBe(true);
    const before = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('old') }));
    expect((await east.send(new RotateKeyOnDemandCommand({ KeyId: k!.KeyId }))).KeyId).toBe(k!.KeyId);
    const after = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('new') }));
    // The blob names its material version: the header bytes differ after rotation.
    const header = (b: Uint8Array | undefined): string =>
      Buffer.from(b!)
        .subarray(0, 2 + 36 + 2)
        .toString('hex');
    expect(header(before.CiphertextBlob)).not.toBe(header(after.CiphertextBlob));
    expect(text((await east.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext)).toBe('old');
    expect(text((await east.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).Plaintext)).toBe('new');
    const moved = await east.send(new ReEncryptCommand({ CiphertextBlob: before.CiphertextBlob, DestinationKeyId: k!.KeyId }));
    expect(header(moved.CiphertextBlob)).toBe(header(after.CiphertextBlob));
    await east.send(new DisableKeyRotationCommand({ KeyId: k!.KeyId }));
    expect((await east.send(new GetKeyRotationStatusCommand({ KeyId: k!.KeyId }))).KeyRotationEnabled).toBe(false);
  });

  it('a rotated multi-region primary: its replica decrypts old and new ciphertexts; rotating the replica is refused', async () => {
    const east = client(kms, 'us-east-1');
    const eu = client(kms, 'eu-west-1');
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    const { ReplicaKeyMetadata: r } = await east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'eu-west-1' }));
    const old = await east.send(new EncryptCommand({ KeyId: m!.KeyId, Plaintext: Buffer.from('v0') }));
    await east.send(new RotateKeyOnDemandCommand({ KeyId: m!.KeyId }));
    const fresh = await east.send(new EncryptCommand({ KeyId: m!.KeyId, Plaintext: Buffer.from('v1') }));
    expect(text((await eu.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext)).toBe('v0');
    expect(text((await eu.send(new DecryptCommand({ CiphertextBlob: fresh.CiphertextBlob }))).Plaintext)).toBe('v1');
    expect(await errName(eu.send(new RotateKeyOnDemandCommand({ KeyId: r!.Arn })))).toBe('UnsupportedOperationException 400');
  });
});

describe('key states', () => {
  it('DisableKey → DisabledException on use; EnableKey restores it', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    const e = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') }));
    await east.send(new DisableKeyCommand({ KeyId: k!.KeyId }));
    expect((await east.send(new DescribeKeyCommand({ KeyId: k!.KeyId }))).KeyMetadata).toMatchObject({
      Enabled: false,
      KeyState: 'Disabled',
    });
    expect(await errName(east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') })))).toBe('DisabledException 400');
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, KeySpec: 'AES_256' })))).toBe('DisabledException 400');
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob })))).toBe('DisabledException 400');
    expect(await errName(east.send(new RotateKeyOnDemandCommand({ KeyId: k!.KeyId })))).toBe('DisabledException 400');
    await east.send(new EnableKeyCommand({ KeyId: k!.KeyId }));
    expect(text((await east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob }))).Plaintext)).toBe('x');
  });

  it('ScheduleKeyDeletion → PendingDeletion, KMSInvalidStateException on use; CancelKeyDeletion → Disabled', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    const e = await east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') }));
    expect(await errName(east.send(new ScheduleKeyDeletionCommand({ KeyId: k!.KeyId, PendingWindowInDays: 3 })))).toBe(
      'ValidationException 400',
    );
    const s = await east.send(new ScheduleKeyDeletionCommand({ KeyId: k!.KeyId, PendingWindowInDays: 7 }));
    expect(s).toMatchObject({ KeyId: k!.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(s.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86400_000);
    const meta = (await east.send(new DescribeKeyCommand({ KeyId: k!.KeyId }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false });
    expect(meta.DeletionDate).toBeInstanceOf(Date);
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob })))).toBe('KMSInvalidStateException 400');
    expect(await errName(east.send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') })))).toBe(
      'KMSInvalidStateException 400',
    );
    expect(await errName(east.send(new EnableKeyCommand({ KeyId: k!.KeyId })))).toBe('KMSInvalidStateException 400');
    expect(await errName(east.send(new ScheduleKeyDeletionCommand({ KeyId: k!.KeyId })))).toBe('KMSInvalidStateException 400');
    await east.send(new CancelKeyDeletionCommand({ KeyId: k!.KeyId }));
    expect((await east.send(new DescribeKeyCommand({ KeyId: k!.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled' });
    await east.send(new EnableKeyCommand({ KeyId: k!.KeyId }));
    expect(text((await east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob }))).Plaintext)).toBe('x');
  });
});
