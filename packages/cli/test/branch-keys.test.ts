/**
 * `envelope branch-keys` and the hierarchical keyring through the CLI, against moto_server and
 * kms-local reached only through AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_KMS; every error
 * as `envelope: ENVELOPE_<CODE>: message`. And `envelope policy` for a hierarchical keyring.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackends, type Backends } from '../../keyring-hierarchical/test/helpers.js';
import { run } from './helpers.js';

let b: Backends;
let env: NodeJS.ProcessEnv;
let store: string;
beforeAll(async () => {
  b = await startBackends(['us-east-1']);
  env = {
    AWS_ENDPOINT_URL_DYNAMODB: b.moto.url,
    AWS_ENDPOINT_URL_KMS: b.kms.url,
    AWS_ACCESS_KEY_ID: b.kms.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: b.kms.credentials.secretAccessKey,
  };
  store = JSON.stringify({ tableName: 'cli-keys', logicalKeyStoreName: 'cli-keys', kmsKeyArn: (await b.createKmsKey())['us-east-1'] });
}, 60_000);
afterAll(() => b?.stop());

describe('envelope branch-keys', () => {
  it('create-store, create (the id is the last line), version; then encrypt and decrypt with the keyring', async () => {
    const made = await run(['branch-keys', 'create-store', '--store', store], '', env);
    expect([made.code, made.stdout.toString()]).toEqual([0, 'arn:aws:dynamodb:us-east-1:123456789012:table/cli-keys\n']);
    const again = await run(['branch-keys', 'create-store', '--store', store], '', env);
    expect([again.code, again.stdout.toString(), again.stderr]).toEqual([0, made.stdout.toString(), '']);

    const created = await run(['branch-keys', 'create', '--store', store, '-c', 'department=billing'], '', env);
    expect([created.code, created.stderr]).toEqual([0, '']);
    const id = created.stdout.toString().trim().split('\n').at(-1)!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const named = await run(['branch-keys', 'create', '--store', store, '--id', 'tenant-7', '-c', 'tenant=7'], '', env);
    expect([named.code, named.stdout.toString()]).toEqual([0, 'tenant-7\n']);

    const keyring = JSON.stringify({ type: 'aws-kms-hierarchical', branchKeyIdFrom: 'tenant', keyStore: JSON.parse(store) });
    const enc = await run(['encrypt', '--keyring', keyring, '-c', 'tenant=tenant-7'], 'through the CLI', env);
    expect([enc.code, enc.stderr]).toEqual([0, '']);
    const versioned = await run(['branch-keys', 'version', '--store', store, '--id', 'tenant-7'], '', env);
    expect(versioned.code).toBe(0);
    expect(versioned.stdout.toString()).toMatch(/^[0-9a-f-]{36}\n$/);
    const dec = await run(['decrypt', '--keyring', keyring], enc.stdout, env);
    expect([dec.code, dec.stdout.toString()]).toEqual([0, 'through the CLI']);
  });

  it('errors are coded and name the branch key; usage errors say what is missing', async () => {
    const missing = await run(['branch-keys', 'version', '--store', store, '--id', 'nobody'], '', env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^envelope: ENVELOPE_KEY_STORE: branch key "nobody": not found in table "cli-keys"\n$/);
    const dup = await run(['branch-keys', 'create', '--store', store, '--id', 'dup', '-c', 'a=b'], '', env);
    expect(dup.code).toBe(0);
    const again = await run(['branch-keys', 'create', '--store', store, '--id', 'dup', '-c', 'a=b'], '', env);
    expect(again.stderr).toMatch(/^envelope: ENVELOPE_KEY_STORE: branch key "dup": already exists/);
    const noContext = await run(['branch-keys', 'create', '--store', store, '--id', 'x'], '', env);
    expect([noContext.code, noContext.stderr]).toEqual([1, expect.stringMatching(/needs at least one -c/)]);
    const badStore = await run(['branch-keys', 'create', '--store', '{"tableName":"tbl"}'], '', env);
    expect(badStore.stderr).toMatch(/^envelope: ENVELOPE_CONFIG: store\.logicalKeyStoreName/);
    const noCommand = await run(['branch-keys', '--store', store], '', env);
    expect(noCommand.stderr).toMatch(/give a command: create-store, create or version/);
    const dec = await run(
      ['encrypt', '--keyring', JSON.stringify({ type: 'aws-kms-hierarchical', branchKeyId: 'nobody', keyStore: JSON.parse(store) })],
      'x',
      env,
    );
    expect(dec.stderr).toMatch(/^envelope: ENVELOPE_KEY_STORE: branch key "nobody": not found/);
  });

  it('--help lists the commands', async () => {
    const r = await run(['branch-keys', '--help']);
    expect(r.stdout.toString()).toMatch(/create-store[\s\S]*create[\s\S]*version --id ID/);
  });
});

describe('envelope policy for a hierarchical keyring', () => {
  it('GetItem on the table, Decrypt with the store key under its logical name; message context conditions stay on data-key statements', async () => {
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234';
    const conf = JSON.stringify({
      type: 'multi',
      generator: {
        type: 'aws-kms-hierarchical',
        branchKeyIdFrom: 'tenant',
        keyStore: { tableName: 'keys', logicalKeyStoreName: 'prod', kmsKeyArn: arn },
      },
      children: [{ type: 'aws-kms', keyId: 'arn:aws:kms:us-east-1:111122223333:key/5678' }],
    });
    const r = await run(['policy', '--keyring', conf, '--require-context', 'tenant']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout.toString());
    expect(p.Statement.filter((s: { Sid: string }) => s.Sid.includes('BranchKeys'))).toEqual([
      {
        Sid: 'ReadBranchKeys',
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: ['arn:aws:dynamodb:us-east-1:111122223333:table/keys'],
      },
      {
        Sid: 'UnwrapBranchKeys',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: [arn],
        Condition: { StringEquals: { 'kms:EncryptionContext:tablename': 'prod' } },
      },
    ]);
    expect(p.Statement.find((s: { Sid: string }) => s.Sid === 'UnwrapDataKeys').Resource).toEqual([
      'arn:aws:kms:us-east-1:111122223333:key/5678',
    ]);
  });
});
