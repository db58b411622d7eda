import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from './helpers.js';

const aes = (name = 'key-1', key = randomBytes(32)) =>
  JSON.stringify({ type: 'raw-aes', namespace: 'cli-test', name, key: key.toString('base64') });

describe('envelope encrypt / decrypt / inspect', () => {
  it('round trips stdin to stdout with a context, and inspect shows the header', async () => {
    const k = aes();
    const enc = await run(
      ['encrypt', '--keyring', k, '-c', 'tenant=acme', '--suite', '0x0478', '--frame-length', '1024'],
      'hello from stdin',
    );
    expect(enc.code).toBe(0);
    const info = await run(['inspect', '--json'], enc.stdout);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout.toString());
    expect(j).toMatchObject({ version: '2.0', suite: '0x0478', frameLength: 1024, encryptionContext: { tenant: 'acme' } });
    expect(j.encryptedDataKeys).toEqual([{ provider: 'cli-test', key: 'key-1' }]);
    const dec = await run(['decrypt', '--keyring', k, '-c', 'tenant=acme'], enc.stdout);
    expect(dec).toMatchObject({ code: 0 });
    expect(dec.stdout.toString()).toBe('hello from stdin');
  });

  it('a context mismatch is a coded error on stderr with exit 1', async () => {
    const k = aes();
    const enc = await run(['encrypt', '--keyring', k, '-c', 'tenant=acme'], 'x');
    const dec = await run(['decrypt', '--keyring', k, '-c', 'tenant=evil'], enc.stdout);
    expect(dec.code).toBe(1);
    expect(dec.stderr).toMatch(/^envelope: ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH: /);
    expect(dec.stdout.length).toBe(0);
  });

  it('files: output appears only once complete; a failed decrypt leaves no output file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-cli-'));
    const k = aes();
    await writeFile(path.join(dir, 'plain.txt'), randomBytes(100_000));
    expect((await run(['encrypt', '--keyring', k, '--in', path.join(dir, 'plain.txt'), '--out', path.join(dir, 'c.enc')])).code).toBe(0);
    expect((await run(['decrypt', '--keyring', k, '--in', path.join(dir, 'c.enc'), '--out', path.join(dir, 'back.txt')])).code).toBe(0);
    expect((await readFile(path.join(dir, 'back.txt'))).equals(await readFile(path.join(dir, 'plain.txt')))).toBe(true);
    const bad = await readFile(path.join(dir, 'c.enc'));
    bad[bad.length - 10]! ^= 1;
    await writeFile(path.join(dir, 'bad.enc'), bad);
    const r = await run(['decrypt', '--keyring', k, '--in', path.join(dir, 'bad.enc'), '--out', path.join(dir, 'bad.txt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ENVELOPE_AUTHENTICATION_FAILED/);
    expect((await readdir(dir)).sort()).toEqual(['back.txt', 'bad.enc', 'c.enc', 'plain.txt']);
  });

  it('multi keyring configuration: either child decrypts', async () => {
    const a = aes('a');
    const b = aes('b');
    const enc = await run(['encrypt', '--keyring', `{"type":"multi","generator":${a},"children":[${b}]}`], 'multi');
    expect(enc.code).toBe(0);
    for (const k of [a, b]) expect((await run(['decrypt', '--keyring', k], enc.stdout)).stdout.toString()).toBe('multi');
  });

  it('configuration errors name the path', async () => {
    const r = await run(['encrypt', '--keyring', '{"type":"multi","children":[{"type":"raw-aes","namespace":"n","name":"x"}]}'], 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ENVELOPE_CONFIG: keyring\.children\[0\]: give exactly one of key or keyFile/);
    const u = await run(['encrypt', '--keyring', '{"type":"nope"}'], 'x');
    expect(u.stderr).toMatch(/keyring\.type: unknown keyring type "nope"/);
  });

  it('usage errors and help', async () => {
    expect((await run(['encrypt'])).stderr).toMatch(/--keyring is required/);
    expect((await run(['frobnicate'])).code).toBe(1);
    const h = await run(['encrypt', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout.toString()).toMatch(/Examples:/);
    expect((await run(['--help'])).stdout.toString()).toMatch(/Commands:/);
  });
});

describe('a third-party-style plugin end to end through the CLI', () => {
  it('loads "plugins" from a configuration file and encrypts/decrypts with the plugin keyring', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-plugin-'));
    const conf = path.join(dir, 'keyring.json');
    await writeFile(
      conf,
      JSON.stringify({ plugins: ['@envelope/keyring-env'], keyring: { type: 'env-aes', namespace: 'app', name: 'k', variable: 'MY_KEY' } }),
    );
    const env = { MY_KEY: randomBytes(32).toString('base64') };
    const enc = await run(['encrypt', '--keyring', conf, '--suite', '0x0478'], 'via plugin', env);
    expect(enc.stderr).toBe('');
    expect(enc.code).toBe(0);
    const dec = await run(['decrypt', '--keyring', conf], enc.stdout, env);
    expect(dec.stdout.toString()).toBe('via plugin');
    const missing = await run(['decrypt', '--keyring', conf], enc.stdout, {});
    expect(missing.stderr).toMatch(/ENVELOPE_CONFIG: keyring\.variable: environment variable MY_KEY is not set/);
  });
});

describe('KMS keyring configurations through the CLI, on kms-local', () => {
  it('aws-kms-multi-region: encrypt, then decrypt with the primary blackholed', async () => {
    const { startKmsLocal } = await import('@envelope/kms-local');
    const { KMSClient, CreateKeyCommand, ReplicateKeyCommand } = await import('@aws-sdk/client-kms');
    const kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
    try {
      const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
      const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
      const replica = (await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'eu-west-1' }))).ReplicaKeyMetadata!.Arn!;
      // Copy the pair: the SDK client above stamped its own bookkeeping onto kms.credentials.
      const credentials = { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: kms.credentials.secretAccessKey };
      const conf = JSON.stringify({
        type: 'aws-kms-multi-region',
        keys: [{ keyId: primary }, { keyId: replica }],
        endpoint: kms.url,
        credentials,
        hedgeAfterMs: 50,
        deadlineMs: 3000,
        callTimeoutMs: 1000,
      });
      const enc = await run(['encrypt', '--keyring', conf, '-c', 'app=cli'], 'multi-region via the CLI');
      expect(enc.stderr).toBe('');
      const info = JSON.parse((await run(['inspect', '--json'], enc.stdout)).stdout.toString());
      expect(info.encryptedDataKeys).toEqual([{ provider: 'aws-kms', key: primary, region: 'us-east-1' }]);
      kms.setFault('us-east-1', { mode: 'blackhole' });
      const dec = await run(['decrypt', '--keyring', conf, '-c', 'app=cli'], enc.stdout);
      expect(dec.stderr).toBe('');
      expect(dec.stdout.toString()).toBe('multi-region via the CLI');
    } finally {
      await kms.close();
    }
  });
});
