import { describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const a = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';
const b = 'arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222';

describe('envelope policy', () => {
  it('lists exactly the actions each keyring performs, per key, across a multi keyring', async () => {
    const conf = JSON.stringify({
      type: 'multi',
      generator: { type: 'aws-kms', keyId: a },
      children: [
        { type: 'aws-kms-discovery', regions: ['eu-west-1'], filter: { partition: 'aws', accountIds: ['111122223333'] } },
        { type: 'raw-aes', namespace: 'n', name: 'k', key: Buffer.alloc(32).toString('base64') },
      ],
    });
    const r = await run(['policy', '--keyring', conf]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout.toString());
    expect(p.Version).toBe('2012-10-17');
    expect(p.Statement).toEqual([
      { Sid: 'GenerateDataKeys', Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: [a] },
      { Sid: 'WrapDataKeys', Effect: 'Allow', Action: 'kms:Encrypt', Resource: [a] },
      { Sid: 'UnwrapDataKeys', Effect: 'Allow', Action: 'kms:Decrypt', Resource: [a, 'arn:aws:kms:eu-west-1:111122223333:key/*'].sort() },
    ]);
  });

  it('multi-region keys and required context keys', async () => {
    const conf = JSON.stringify({ type: 'aws-kms-multi-region', keys: [{ keyId: a }, { keyId: b }] });
    const p = JSON.parse((await run(['policy', '--keyring', conf, '--require-context', 'tenant'])).stdout.toString());
    for (const s of p.Statement) {
      expect(s.Resource).toEqual([a, b].sort());
      expect(s.Condition).toEqual({ Null: { 'kms:EncryptionContext:tenant': 'false' } });
    }
    expect(p.Statement.map((s: { Action: string }) => s.Action)).toEqual(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt']);
  });

  it('a local-only configuration needs no KMS permissions, and says so', async () => {
    const r = await run([
      'policy',
      '--keyring',
      JSON.stringify({ type: 'raw-aes', namespace: 'n', name: 'k', key: Buffer.alloc(32).toString('base64') }),
    ]);
    expect(JSON.parse(r.stdout.toString()).Statement).toEqual([]);
    expect(r.stderr).toMatch(/uses no KMS keys/);
  });
});
