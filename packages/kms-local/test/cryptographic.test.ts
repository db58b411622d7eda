import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  ReEncryptCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { startKmsLocal, type KmsLocal } from '../src/index.js';
import { client, errName } from './helpers.js';

let kms: KmsLocal;
let east: KMSClient;
let a: string;
let b: string;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
  east = client(kms, 'us-east-1');
  a = (await east.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  b = (await east.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
});
afterAll(() => kms.close());

const same = (x: Uint8Array | undefined, y: Uint8Array | undefined): boolean => Buffer.from(x!).equals(Buffer.from(y!));

describe('data keys', () => {
  it('GenerateDataKey: KeySpec AES_256/AES_128 or NumberOfBytes 1..1024; the blob decrypts to the plaintext', async () => {
    for (const [req, len] of [
      [{ KeySpec: 'AES_256' as const }, 32],
      [{ KeySpec: 'AES_128' as const }, 16],
      [{ NumberOfBytes: 1 }, 1],
      [{ NumberOfBytes: 1024 }, 1024],
    ] as const) {
      const g = await east.send(new GenerateDataKeyCommand({ KeyId: a, ...req, EncryptionContext: { purpose: 'test' } }));
      expect(g.Plaintext).toHaveLength(len);
      expect(g.KeyId).toBe(a);
      const d = await east.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
      expect(same(d.Plaintext, g.Plaintext)).toBe(true);
    }
    const g1 = await east.send(new GenerateDataKeyCommand({ KeyId: a, KeySpec: 'AES_256' }));
    const g2 = await east.send(new GenerateDataKeyCommand({ KeyId: a, KeySpec: 'AES_256' }));
    expect(same(g1.Plaintext, g2.Plaintext)).toBe(false);
  });

  it('GenerateDataKey refuses a missing, zero, oversized or doubled size', async () => {
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: a })))).toBe('ValidationException 400');
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: a, NumberOfBytes: 0 })))).toBe('ValidationException 400');
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: a, NumberOfBytes: 1025 })))).toBe('ValidationException 400');
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: a, NumberOfBytes: 32, KeySpec: 'AES_256' })))).toBe(
      'ValidationException 400',
    );
  });

  it('GenerateDataKeyWithoutPlaintext returns only the blob, which Decrypt opens', async () => {
    const w = await east.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: a, KeySpec: 'AES_128' }));
    expect((w as { Plaintext?: unknown }).Plaintext).toBeUndefined();
    expect(w.KeyId).toBe(a);
    expect((await east.send(new DecryptCommand({ CiphertextBlob: w.CiphertextBlob }))).Plaintext).toHaveLength(16);
  });

  it('GrantTokens are accepted (up to 10)', async () => {
    const g = await east.send(new GenerateDataKeyCommand({ KeyId: a, KeySpec: 'AES_256', GrantTokens: ['t1', 't2'] }));
    expect(g.Plaintext).toHaveLength(32);
    expect(await errName(east.send(new GenerateDataKeyCommand({ KeyId: a, KeySpec: 'AES_256', GrantTokens: Array(11).fill('t') })))).toBe(
      'ValidationException 400',
    );
  });
});

describe('Encrypt, Decrypt, ReEncrypt', () => {
  it('Encrypt up to 4096 bytes; Decrypt with or without KeyId answers the key ARN and the algorithm', async () => {
    const pt = Buffer.alloc(4096, 7);
    const e = await east.send(new EncryptCommand({ KeyId: a, Plaintext: pt }));
    expect(e).toMatchObject({ KeyId: a, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    for (const KeyId of [undefined, a]) {
      const d = await east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, KeyId }));
      expect(d).toMatchObject({ KeyId: a, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      expect(same(d.Plaintext, pt)).toBe(true);
    }
    expect(await errName(east.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.alloc(4097) })))).toBe('ValidationException 400');
    expect(await errName(east.send(new EncryptCommand({ KeyId: a, Plaintext: new Uint8Array(0) })))).toBe('ValidationException 400');
  });

  it('a ciphertext is bound to its encryption context (order does not matter)', async () => {
    const e = await east.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('x'), EncryptionContext: { t: '1', u: '2' } }));
    expect(
      Buffer.from(
        (await east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: { u: '2', t: '1' } }))).Plaintext!,
      ).toString(),
    ).toBe('x');
    for (const EncryptionContext of [{ t: '2', u: '2' }, { t: '1' }, undefined, { t: '1', u: '2', v: '3' }] as (
      Record<string, string> | undefined
    )[]) {
      expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, EncryptionContext })))).toBe(
        'InvalidCiphertextException 400',
      );
    }
  });

  it('a KeyId naming another key is IncorrectKeyException; tampering and garbage are InvalidCiphertextException', async () => {
    const e = await east.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('x') }));
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, KeyId: b })))).toBe('IncorrectKeyException 400');
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob, KeyId: 'alias/none' })))).toBe(
      'NotFoundException 400',
    );
    const blob = Buffer.from(e.CiphertextBlob!);
    for (const i of [blob.length - 1, blob.length - 20, 3]) {
      const t = Buffer.from(blob);
      t[i]! ^= 1;
      expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: t })))).toMatch(
        /^(InvalidCiphertextException|AccessDeniedException) 400$/,
      );
    }
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a blob at all, not at all, no') })))).toBe(
      'InvalidCiphertextException 400',
    );
    expect(await errName(east.send(new DecryptCommand({ CiphertextBlob: Buffer.alloc(6145, 1) })))).toBe('ValidationException 400');
  });

  it('a blob of a key that does not exist in the region is refused as the service does (AccessDeniedException)', async () => {
    const e = await east.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('x') }));
    expect(await errName(client(kms, 'eu-west-1').send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob })))).toBe(
      'AccessDeniedException 400',
    );
  });

  it('only SYMMETRIC_DEFAULT: an RSA algorithm is InvalidKeyUsageException', async () => {
    expect(
      await errName(east.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))),
    ).toBe('InvalidKeyUsageException 400');
  });

  it('ReEncrypt moves a ciphertext to another key and context without showing the plaintext', async () => {
    const e = await east.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('secret'), EncryptionContext: { from: 'a' } }));
    const r = await east.send(
      new ReEncryptCommand({
        CiphertextBlob: e.CiphertextBlob,
        SourceEncryptionContext: { from: 'a' },
        DestinationKeyId: b,
        DestinationEncryptionContext: { to: 'b' },
      }),
    );
    expect(r).toMatchObject({
      SourceKeyId: a,
      KeyId: b,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    });
    expect((r as { Plaintext?: unknown }).Plaintext).toBeUndefined();
    const d = await east.send(new DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: { to: 'b' } }));
    expect(Buffer.from(d.Plaintext!).toString()).toBe('secret');
    expect(d.KeyId).toBe(b);
    expect(
      await errName(
        east.send(
          new ReEncryptCommand({
            CiphertextBlob: e.CiphertextBlob,
            SourceEncryptionContext: { from: 'a' },
            SourceKeyId: b,
            DestinationKeyId: b,
          }),
        ),
      ),
    ).toBe('IncorrectKeyException 400');
    expect(await errName(east.send(new ReEncryptCommand({ CiphertextBlob: e.CiphertextBlob, DestinationKeyId: b })))).toBe(
      'InvalidCiphertextException 400',
    );
  });
});
