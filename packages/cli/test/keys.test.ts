/**
 * `envelope keys` against a kms-local started here (127.0.0.1, port 0): each subcommand's JSON
 * checked against what kms-local itself reports through the SDK, the human forms, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
} from '@aws-sdk/client-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { run } from './helpers.js';

let kms: KmsLocal;
let env: NodeJS.ProcessEnv;
const clients = new Map<string, KMSClient>();
/** An SDK client of our own, to read what kms-local reports. */
const sdk = (region: string): KMSClient => {
  let c = clients.get(region);
  if (!c)
    clients.set(
      region,
      (c = new KMSClient({
        region,
        endpoint: kms.url,
        credentials: { ...kms.credentials },
        requestHandler: { requestTimeout: 5000, throwOnRequestTimeout: true },
      })),
    );
  return c;
};
const keys = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
  const r = await run(['keys', ...args], '', { ...env, ...extraEnv });
  return { ...r, out: r.stdout.toString() };
};
const json = async (args: string[]) => {
  const r = await keys([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
};
/** The material version inside a kms-local ciphertext blob (0x01 ‖ len ‖ family ‖ version u16 ‖ …). */
const materialVersion = (blob: Uint8Array): number => Buffer.from(blob).readUInt16BE(2 + blob[1]!);

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2', 'eu-west-1'], port: 0, host: '127.0.0.1' });
  // Only the endpoint: the command must fall back to kms-local's default test credentials.
  env = { ENVELOPE_KMS_ENDPOINT: kms.url };
});

afterAll(async () => {
  for (const c of clients.values()) c.destroy();
  await kms?.close();
});

describe('envelope keys create', () => {
  it('a single-region key with an alias and a description; the JSON is what DescribeKey says', async () => {
    const k = await json(['create', '--alias', 'alias/create-test', '--description', 'for the create test']);
    const m = (await sdk('us-east-1').send(new DescribeKeyCommand({ KeyId: 'alias/create-test' }))).KeyMetadata!;
    expect(k).toMatchObject({
      keyId: m.KeyId,
      arn: m.Arn,
      region: 'us-east-1',
      description: 'for the create test',
      keyState: 'Enabled',
      enabled: true,
      multiRegion: false,
      multiRegionKeyType: null,
      primaryArn: null,
      replicaRegions: [],
      rotationEnabled: false,
      aliases: ['alias/create-test'],
    });
    expect(m.Description).toBe('for the create test');
    expect(m.MultiRegion).toBe(false);
    const aliases = (await sdk('us-east-1').send(new ListAliasesCommand({ KeyId: m.KeyId }))).Aliases!;
    expect(aliases.map((a) => a.AliasName)).toEqual(['alias/create-test']);
  });

  it('the human form prints the new ARN alone (KEY=$(envelope keys create) works), in --region', async () => {
    const r = await keys(['create', '--region', 'us-west-2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^arn:aws:kms:us-west-2:111122223333:key\/[0-9a-f-]{36}\n$/);
    const listed = (await sdk('us-west-2').send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyArn);
    expect(listed).toContain(r.out.trim());
  });

  it('--multi-region makes an mrk- primary', async () => {
    const k = await json(['create', '--multi-region']);
    expect(k.keyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    const m = (await sdk('us-east-1').send(new DescribeKeyCommand({ KeyId: k.arn }))).KeyMetadata!;
    expect(m.MultiRegion).toBe(true);
    expect(m.MultiRegionConfiguration?.MultiRegionKeyType).toBe('PRIMARY');
    expect(k).toMatchObject({ multiRegion: true, multiRegionKeyType: 'PRIMARY', primaryArn: m.Arn, replicaRegions: [] });
  });

  it('an alias that is taken: the key is made, the error says so and names it', async () => {
    await json(['create', '--alias', 'alias/taken']);
    const r = await keys(['create', '--alias', 'alias/taken']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^envelope: ENVELOPE_KMS: key arn:aws:kms:us-east-1:111122223333:key\/\S+ was created, but its alias was not: AlreadyExistsException: /,
    );
    expect(r.out).toBe('');
  });
});

describe('envelope keys replicate', () => {
  it('replicates a multi-region key into --region; both sides agree with DescribeKey', async () => {
    const primary = await json(['create', '--multi-region']);
    const replica = await json(['replicate', primary.arn, '--region', 'eu-west-1']);
    const m = (await sdk('eu-west-1').send(new DescribeKeyCommand({ KeyId: replica.arn }))).KeyMetadata!;
    expect(replica.arn).toBe(primary.arn.replace(':us-east-1:', ':eu-west-1:'));
    expect(m.MultiRegionConfiguration?.MultiRegionKeyType).toBe('REPLICA');
    expect(replica).toMatchObject({
      keyId: primary.keyId,
      region: 'eu-west-1',
      multiRegionKeyType: 'REPLICA',
      primaryArn: primary.arn,
      enabled: true,
    });
    const p = (await sdk('us-east-1').send(new DescribeKeyCommand({ KeyId: primary.arn }))).KeyMetadata!;
    expect(p.MultiRegionConfiguration?.ReplicaKeys?.map((r) => r.Region)).toEqual(['eu-west-1']);
    // The replica opens what the primary sealed: it is the same key material.
    const blob = (await sdk('us-east-1').send(new EncryptCommand({ KeyId: primary.arn, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    const back = await sdk('eu-west-1').send(new DecryptCommand({ CiphertextBlob: blob, KeyId: replica.arn }));
    expect(Buffer.from(back.Plaintext!).toString()).toBe('x');
  });

  it('the human form prints the replica ARN; a single-region key cannot be replicated (coded error)', async () => {
    const primary = (await keys(['create', '--multi-region'])).out.trim();
    const r = await keys(['replicate', primary, '--region', 'us-west-2']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${primary.replace(':us-east-1:', ':us-west-2:')}\n`);
    const single = (await keys(['create'])).out.trim();
    const bad = await keys(['replicate', single, '--region', 'eu-west-1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^envelope: ENVELOPE_KMS: UnsupportedOperationException: /);
  });
});

describe('envelope keys list', () => {
  it('every key of the regions asked, as kms-local lists and describes them, with aliases and rotation', async () => {
    const mrk = await json(['create', '--multi-region', '--alias', 'alias/list-test']);
    await json(['replicate', mrk.arn, '--region', 'eu-west-1']);
    await json(['rotate', mrk.arn, '--enable']);
    const listed = await json(['list', '--region', 'us-east-1,eu-west-1']);
    for (const region of ['us-east-1', 'eu-west-1']) {
      const c = sdk(region);
      const arns = (await c.send(new ListKeysCommand({ Limit: 1000 }))).Keys!.map((k) => k.KeyArn!);
      const mine = listed.keys.filter((k: { region: string }) => k.region === region);
      expect(mine.map((k: { arn: string }) => k.arn)).toEqual(arns);
      for (const k of mine) {
        const m = (await c.send(new DescribeKeyCommand({ KeyId: k.arn }))).KeyMetadata!;
        const rotation = (await c.send(new GetKeyRotationStatusCommand({ KeyId: k.arn }))).KeyRotationEnabled;
        const aliases = (await c.send(new ListAliasesCommand({ KeyId: k.keyId }))).Aliases!.map((a) => a.AliasName).sort();
        expect(k).toMatchObject({
          keyId: m.KeyId,
          enabled: m.Enabled,
          keyState: m.KeyState,
          multiRegion: m.MultiRegion,
          multiRegionKeyType: m.MultiRegionConfiguration?.MultiRegionKeyType ?? null,
          replicaRegions: (m.MultiRegionConfiguration?.ReplicaKeys ?? []).map((r) => r.Region),
          rotationEnabled: rotation,
          aliases,
        });
      }
    }
    expect(listed.keys.find((k: { arn: string }) => k.arn === mrk.arn)).toMatchObject({
      rotationEnabled: true,
      aliases: ['alias/list-test'],
      replicaRegions: ['eu-west-1'],
    });
    expect(listed.aliases).toContainEqual({
      name: 'alias/list-test',
      arn: 'arn:aws:kms:us-east-1:111122223333:alias/list-test',
      region: 'us-east-1',
      targetKeyId: mrk.keyId,
    });
  });

  it('the human form: a header and one aligned row per key', async () => {
    const k = await json(['create', '--multi-region', '--alias', 'alias/human-list']);
    const r = await keys(['list']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REGION\s+KEY\s+TYPE\s+STATE\s+ROTATION\s+ALIASES$/);
    const row = lines.find((l) => l.includes(k.arn))!;
    expect(row).toMatch(/^us-east-1\s+arn:\S+\s+multi-region primary\s+Enabled\s+off\s+alias\/human-list$/);
    const n = (await sdk('us-east-1').send(new ListKeysCommand({ Limit: 1000 }))).Keys!.length;
    expect(lines).toHaveLength(n + 1);
  });

  it('a region without keys says so', async () => {
    const local = await startKmsLocal({ regions: ['us-east-1'], port: 0 });
    try {
      const r = await keys(['list'], { ENVELOPE_KMS_ENDPOINT: local.url });
      expect(r).toMatchObject({ code: 0, stderr: '', out: 'no keys in us-east-1\n' });
      expect(JSON.parse((await keys(['list', '--json'], { ENVELOPE_KMS_ENDPOINT: local.url })).out)).toEqual({ keys: [], aliases: [] });
    } finally {
      await local.close();
    }
  });
});

describe('envelope keys rotate', () => {
  it('rotates on demand: new ciphertexts use new material, old ones still decrypt', async () => {
    const k = await json(['create', '--alias', 'alias/rotate-test']);
    const c = sdk('us-east-1');
    const before = (await c.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('old') }))).CiphertextBlob!;
    kms.resetStats();
    const r = await keys(['rotate', 'alias/rotate-test']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.out).toBe(`rotated ${k.arn}: new key material for new ciphertexts; earlier material still decrypts\n`);
    expect(kms.stats()['us-east-1']?.RotateKeyOnDemand).toBe(1);
    const after = (await c.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('new') }))).CiphertextBlob!;
    expect(materialVersion(after)).toBe(materialVersion(before) + 1);
    expect(Buffer.from((await c.send(new DecryptCommand({ CiphertextBlob: before }))).Plaintext!).toString()).toBe('old');
    const j = await json(['rotate', k.arn]);
    expect(j).toMatchObject({ arn: k.arn, rotatedNow: true, rotationEnabled: false });
    expect(kms.stats()['us-east-1']?.RotateKeyOnDemand).toBe(2);
  });

  it('--enable and --disable turn automatic rotation on and off without rotating', async () => {
    const k = await json(['create']);
    const c = sdk('us-east-1');
    kms.resetStats();
    expect(await json(['rotate', k.keyId, '--enable'])).toMatchObject({ arn: k.arn, rotationEnabled: true, rotatedNow: false });
    expect((await c.send(new GetKeyRotationStatusCommand({ KeyId: k.arn }))).KeyRotationEnabled).toBe(true);
    const off = await keys(['rotate', k.arn, '--disable']);
    expect(off.out).toBe(`automatic rotation disabled for ${k.arn}\n`);
    expect((await c.send(new GetKeyRotationStatusCommand({ KeyId: k.arn }))).KeyRotationEnabled).toBe(false);
    expect(kms.stats()['us-east-1']).toMatchObject({ EnableKeyRotation: 1, DisableKeyRotation: 1 });
    expect(kms.stats()['us-east-1']?.RotateKeyOnDemand).toBeUndefined();
  });

  it('a replica is rotated through its primary (coded error from kms-local)', async () => {
    const p = await json(['create', '--multi-region']);
    const replica = await json(['replicate', p.arn, '--region', 'eu-west-1']);
    const r = await keys(['rotate', replica.arn]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_KMS: UnsupportedOperationException: .*replica/);
  });
});

describe('envelope keys: bad input and unreachable endpoints', () => {
  const usage = async (args: string[], message: RegExp, extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = await keys(args, extraEnv);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_USAGE: /);
    expect(r.stderr).toMatch(message);
  };

  it('usage errors: no command, an unknown command, a missing key, a missing --region, options that do not apply', async () => {
    await usage([], /expected a command: create, replicate, list or rotate/);
    await usage(['frobnicate'], /unknown keys command "frobnicate"/);
    await usage(['rotate'], /keys rotate expects a key id, key ARN or alias/);
    await usage(['replicate', '--region', 'eu-west-1'], /keys replicate expects a key id/);
    await usage(['replicate', 'alias/x'], /keys replicate needs --region R/);
    await usage(['create', '--enable'], /keys create does not take --enable/);
    await usage(['list', 'extra'], /unexpected argument "extra"/);
    await usage(['rotate', 'alias/x', '--enable', '--disable'], /--enable or --disable, not both/);
    await usage(['create', '--alias', 'orders'], /--alias expects alias\/NAME/);
    await usage(['create', '--region', 'mars'], /--region expects a region name/);
    await usage(['list', '--access-key-id', 'A'], /both --access-key-id and --secret-access-key/);
    await usage(['list', '--timeout-ms', '0'], /--timeout-ms expects a positive number/);
    await usage(['list', '--bogus'], /Unknown option '--bogus'/);
  });

  it('an unknown key is a coded error, exit 1', async () => {
    for (const args of [
      ['rotate', 'alias/does-not-exist'],
      ['replicate', 'arn:aws:kms:us-east-1:111122223333:key/mrk-00000000000000000000000000000000', '--region', 'eu-west-1'],
    ]) {
      const r = await keys(args);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.stderr).toMatch(/^envelope: ENVELOPE_KMS: NotFoundException: /);
    }
  });

  it('refuses an endpoint that is not loopback unless --allow-remote, and says why', async () => {
    await usage(
      ['list'],
      /http:\/\/192\.0\.2\.1:4566 is not a loopback address; "envelope keys" is a kms-local tool: .*Pass --allow-remote/,
      { ENVELOPE_KMS_ENDPOINT: 'http://192.0.2.1:4566' },
    );
    await usage(['list', '--endpoint', 'https://kms.us-east-1.amazonaws.com'], /not a loopback address/);
    for (const ok of ['http://localhost:1', 'http://[::1]:1', 'http://127.0.0.2:1']) {
      const r = await keys(['list', '--endpoint', ok, '--timeout-ms', '500']);
      expect(r.stderr).not.toMatch(/loopback/);
    }
    // (--allow-remote lifts the check; no test sends traffic to a non-loopback address. The
    // deadline every call has is shown on a blackholed kms-local below.)
  });

  it('a blackholed kms-local hits the deadline: ENVELOPE_TIMEOUT, promptly', async () => {
    kms.setFault('us-east-1', { mode: 'blackhole' });
    try {
      const r = await keys(['list', '--timeout-ms', '300']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`envelope: ENVELOPE_TIMEOUT: ${kms.url} did not answer within 300 ms\n`);
    } finally {
      kms.setFault('us-east-1', { mode: 'none' });
    }
  });

  it('nothing listening: a coded error that says how to start kms-local', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await keys(['list', '--endpoint', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^envelope: ENVELOPE_KMS: cannot reach kms-local at http://127.0.0.1:${port} \\(ECONNREFUSED\\): is "npx envelope kms-local" running there\\?`,
      ),
    );
  });

  it('credentials: from the flags, then the environment (AWS_*), else the default test pair', async () => {
    const bad = await keys(['list'], { AWS_ACCESS_KEY_ID: 'AKIDWRONG', AWS_SECRET_ACCESS_KEY: 'nope' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^envelope: ENVELOPE_KMS: UnrecognizedClientException: .*\(signed with AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY from the environment; /,
    );
    const { accessKeyId, secretAccessKey } = kms.credentials;
    const flags = await keys(['list', '--access-key-id', accessKeyId, '--secret-access-key', secretAccessKey], {
      AWS_ACCESS_KEY_ID: 'AKIDWRONG',
      AWS_SECRET_ACCESS_KEY: 'nope',
    });
    expect(flags).toMatchObject({ code: 0, stderr: '' });
    const wrongSecret = await keys(['list', '--access-key-id', accessKeyId, '--secret-access-key', 'not-the-secret']);
    expect(wrongSecret.stderr).toMatch(
      /^envelope: ENVELOPE_KMS: InvalidSignatureException: .*\(signed with --access-key-id\/--secret-access-key; /,
    );
    // The secret itself never appears in an error.
    expect(wrongSecret.stderr).not.toContain('not-the-secret');
  });

  it('--help shows every subcommand with examples; envelope --help lists keys', async () => {
    const h = await keys(['--help']);
    expect(h.code).toBe(0);
    for (const s of ['create', 'replicate', 'list', 'rotate', 'Examples:', '--allow-remote', 'ENVELOPE_KMS_ENDPOINT'])
      expect(h.out).toContain(s);
    const top = await run(['--help']);
    expect(top.stdout.toString()).toMatch(/^ {2}keys {10}create, replicate, list and rotate keys on a running kms-local$/m);
  });
});

describe('envelope kms-local prints what envelope keys needs', () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const bin = path.join(root, 'packages/cli/bin/envelope.js');

  it('the export line it prints points envelope keys at it; SIGTERM stops it cleanly', async () => {
    if (!existsSync(path.join(root, 'packages/cli/dist/main.js')))
      throw new Error('packages/cli/dist is missing: build first (npx tsc -b)');
    const child = spawn(process.execPath, [bin, 'kms-local', '--port', '0', '--regions', 'us-east-1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      const line = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`kms-local exited (${code}) before its export line: ${out}`)));
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^ {2}export (.+)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
      });
      const exported = Object.fromEntries(line.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      expect(Object.keys(exported)).toEqual(['ENVELOPE_KMS_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
      expect(exported.ENVELOPE_KMS_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const created = await run(['keys', 'create'], '', exported);
      expect(created).toMatchObject({ code: 0, stderr: '' });
      const listed = await run(['keys', 'list', '--json'], '', exported);
      expect(JSON.parse(listed.stdout.toString()).keys.map((k: { arn: string }) => k.arn)).toEqual([created.stdout.toString().trim()]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
