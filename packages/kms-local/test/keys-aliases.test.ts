import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  paginateListKeys,
} from '@aws-sdk/client-kms';
import { startKmsLocal, type KmsLocal } from '../src/index.js';
import { client, errName, signed, typeOf } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2'], port: 0 });
});
afterAll(() => kms.close());

describe('keys', () => {
  it('CreateKey answers KeyMetadata as the service does; MultiRegion gives an mrk- id', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({ Description: 'test' }));
    expect(k).toMatchObject({
      AWSAccountId: '111122223333',
      Enabled: true,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
      Description: 'test',
    });
    expect(k!.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(k!.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${k!.KeyId}`);
    expect(k!.CreationDate).toBeInstanceOf(Date);
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    expect(m!.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(m!.MultiRegionConfiguration).toEqual({
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: m!.Arn, Region: 'us-east-1' },
      ReplicaKeys: [],
    });
  });

  it('CreateKey refuses what kms-local does not model', async () => {
    const east = client(kms, 'us-east-1');
    expect(await errName(east.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })))).toBe(
      'UnsupportedOperationException 400',
    );
    expect(await errName(east.send(new CreateKeyCommand({ KeyUsage: 'GENERATE_VERIFY_MAC' })))).toBe('UnsupportedOperationException 400');
  });

  it('DescribeKey takes a key id, a key ARN, an alias or an alias ARN; regions are separate', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    await east.send(new CreateAliasCommand({ AliasName: 'alias/describe-me', TargetKeyId: k!.KeyId }));
    for (const ref of [k!.KeyId!, k!.Arn!, 'alias/describe-me', 'arn:aws:kms:us-east-1:111122223333:alias/describe-me']) {
      expect((await east.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata!.KeyId).toBe(k!.KeyId);
    }
    const west = client(kms, 'us-west-2');
    expect(await errName(west.send(new DescribeKeyCommand({ KeyId: k!.KeyId })))).toBe('NotFoundException 400');
    // An ARN of another region or account is not found either.
    expect(await errName(west.send(new DescribeKeyCommand({ KeyId: k!.Arn })))).toBe('NotFoundException 400');
    expect(await errName(east.send(new DescribeKeyCommand({ KeyId: k!.Arn!.replace('111122223333', '444455556666') })))).toBe(
      'NotFoundException 400',
    );
    expect(await errName(east.send(new DescribeKeyCommand({ KeyId: 'x'.repeat(2049) })))).toBe('ValidationException 400');
  });

  it('ListKeys pages with Limit and Marker (the SDK paginator walks them)', async () => {
    const west = client(kms, 'us-west-2');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await west.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
    const first = await west.send(new ListKeysCommand({ Limit: 2 }));
    expect(first.Keys).toHaveLength(2);
    expect(first.Truncated).toBe(true);
    expect(first.NextMarker).toBeTruthy();
    const seen: string[] = [];
    for await (const page of paginateListKeys({ client: west, pageSize: 2 }, {})) seen.push(...page.Keys!.map((k) => k.KeyId!));
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);
    expect(await errName(west.send(new ListKeysCommand({ Marker: 'garbage' })))).toBe('InvalidMarkerException 400');
    expect(await errName(west.send(new ListKeysCommand({ Limit: 0 })))).toBe('ValidationException 400');
  });

  it('a missing KeyId is a ValidationException, a wrongly typed one a SerializationException', async () => {
    expect(await errName(client(kms, 'us-east-1').send(new DescribeKeyCommand({} as never)))).toBe('ValidationException 400');
    const r = await signed(kms, JSON.stringify({ KeyId: 42 }), { target: 'TrentService.DescribeKey' });
    expect(r.status).toBe(400);
    expect(typeOf(r)).toBe('SerializationException');
  });
});

describe('aliases', () => {
  it('resolve wherever KeyId is accepted; ListAliases filters by key; DeleteAlias', async () => {
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    await east.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: k!.Arn }));
    const g = await east.send(new GenerateDataKeyCommand({ KeyId: 'alias/orders', KeySpec: 'AES_256' }));
    expect(g.KeyId).toBe(k!.Arn);
    const e = await east.send(
      new EncryptCommand({ KeyId: 'arn:aws:kms:us-east-1:111122223333:alias/orders', Plaintext: Buffer.from('x') }),
    );
    expect(e.KeyId).toBe(k!.Arn);
    expect((await east.send(new ListAliasesCommand({ KeyId: k!.KeyId }))).Aliases).toEqual([
      { AliasName: 'alias/orders', AliasArn: 'arn:aws:kms:us-east-1:111122223333:alias/orders', TargetKeyId: k!.KeyId },
    ]);
    expect(await errName(east.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: k!.KeyId })))).toBe(
      'AlreadyExistsException 400',
    );
    expect(await errName(east.send(new CreateAliasCommand({ AliasName: 'alias/again', TargetKeyId: 'alias/orders' })))).toBe(
      'ValidationException 400',
    );
    expect(await errName(east.send(new CreateAliasCommand({ AliasName: 'orders', TargetKeyId: k!.KeyId })))).toBe(
      'ValidationException 400',
    );
    expect(await errName(east.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: k!.KeyId })))).toBe(
      'NotFoundException 400',
    );
    // Aliases are per region.
    expect(await errName(client(kms, 'us-west-2').send(new DescribeKeyCommand({ KeyId: 'alias/orders' })))).toBe('NotFoundException 400');
    await east.send(new DeleteAliasCommand({ AliasName: 'alias/orders' }));
    expect(await errName(east.send(new EncryptCommand({ KeyId: 'alias/orders', Plaintext: Buffer.from('x') })))).toBe(
      'NotFoundException 400',
    );
    expect(await errName(east.send(new DeleteAliasCommand({ AliasName: 'alias/orders' })))).toBe('NotFoundException 400');
  });
});
