/**
 * Finding 15.14: KMS client settings leak between keyrings. Two keyrings of one registry with
 * different credentials or profiles must not share an SDK client, and a profile must never be
 * written to process.env. Against kms-local over real HTTP with the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { encrypt, type Keyring } from '@envelope/core';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { createRegistry } from '../src/index.js';
import { kmsClientSupplier } from '@envelope/keyring-kms';
import { createClientPool } from '../src/client-pool.js';

const GOOD = { accessKeyId: 'AKIAGOODGOODGOOD0001', secretAccessKey: 'good-secret-good-secret-good-secret-0001' };
const OTHER = { accessKeyId: 'AKIAOTHEROTHERO00002', secretAccessKey: 'other-secret-other-secret-other-secre02' };

let kms: KmsLocal;
let keyId: string;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1'], credentials: GOOD });
  const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: { ...GOOD } });
  keyId = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  admin.destroy();
});
afterAll(async () => {
  await kms.close();
});

/** Encrypts one message; resolves to 'ok', or the error code and KMS's reasons. */
async function tryEncrypt(keyring: Keyring): Promise<string> {
  try {
    await encrypt(Buffer.from('x'), { keyring, suite: 0x0478 });
    return 'ok';
  } catch (e) {
    const { code, causes } = e as { code?: string; causes?: { reason?: string }[] };
    return `${code}: ${(causes ?? []).map((c) => c.reason).join(', ')}`;
  }
}

const aws = (extra: Record<string, unknown>) => ({ type: 'aws-kms', keyId, endpoint: kms.url, maxRetries: 0, ...extra });

describe('15.14: KMS client settings leak between keyrings', () => {
  it('15.14: same access key id, another secret: its own client (and its own refusal)', async () => {
    const registry = createRegistry({ env: {} });
    expect(await tryEncrypt(await registry.build(aws({ credentials: GOOD })))).toBe('ok');
    const wrong = { accessKeyId: GOOD.accessKeyId, secretAccessKey: 'not-the-secret-not-the-secret-not-the-s' };
    expect(await tryEncrypt(await registry.build(aws({ credentials: wrong })))).toMatch(/^ENVELOPE_KEYRING_FAILURE: \w+Exception$/);
  });

  it('15.14: two profiles: two identities, and process.env is left alone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cfg-aws-'));
    const saved = { ...process.env };
    try {
      const credentials = path.join(dir, 'credentials');
      await writeFile(
        credentials,
        `[good]\naws_access_key_id = ${GOOD.accessKeyId}\naws_secret_access_key = ${GOOD.secretAccessKey}\n` +
          `[other]\naws_access_key_id = ${OTHER.accessKeyId}\naws_secret_access_key = ${OTHER.secretAccessKey}\n`,
        { mode: 0o600 },
      );
      await writeFile(path.join(dir, 'config'), '', { mode: 0o600 });
      for (const k of Object.keys(process.env))
        if (k.startsWith('AWS_') && k !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') delete process.env[k];
      process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
      process.env.AWS_CONFIG_FILE = path.join(dir, 'config');

      const registry = createRegistry({ env: {} });
      expect(await tryEncrypt(await registry.build(aws({ profile: 'good' })))).toBe('ok');
      expect(process.env.AWS_PROFILE).toBeUndefined();
      // kms-local knows only the "good" pair: the "other" profile's keyring must sign as "other".
      expect(await tryEncrypt(await registry.build(aws({ profile: 'other' })))).toBe(
        'ENVELOPE_KEYRING_FAILURE: UnrecognizedClientException',
      );
      expect(await tryEncrypt(await registry.build(aws({ profile: 'good' })))).toBe('ok');
      expect(process.env.AWS_PROFILE).toBeUndefined();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the pool key: every identity and transport setting, and no secret', () => {
    const made: unknown[] = [];
    const pool = createClientPool({}, (o) => (made.push(o), kmsClientSupplier(o)));
    const a = pool.supplier({ endpoint: 'http://127.0.0.1:1', credentials: GOOD });
    expect(pool.supplier({ endpoint: 'http://127.0.0.1:1', credentials: { ...GOOD } })).toBe(a);
    for (const other of [
      { endpoint: 'http://127.0.0.1:2', credentials: GOOD },
      { endpoint: 'http://127.0.0.1:1', credentials: { ...GOOD, secretAccessKey: 'x' } },
      { endpoint: 'http://127.0.0.1:1', credentials: { ...GOOD, sessionToken: 't' } },
      { endpoint: 'http://127.0.0.1:1', credentials: GOOD, requestTimeoutMs: 5 },
      { endpoint: 'http://127.0.0.1:1', profile: 'p' },
      { endpoint: 'http://127.0.0.1:1', profile: 'q' },
    ])
      expect(pool.supplier(other)).not.toBe(a);
    expect(pool.size).toBe(7);
    // A profile reaches the SDK client's own settings, not the environment.
    expect(made.at(-1)).toEqual({ endpoint: 'http://127.0.0.1:1', clientConfig: { profile: 'q' } });
  });

  it("the registry's environment: its static credentials, unless it names a profile", () => {
    const made: unknown[] = [];
    const make = (o: unknown) => (made.push(o), () => ({}) as never);
    createClientPool({ AWS_ACCESS_KEY_ID: GOOD.accessKeyId, AWS_SECRET_ACCESS_KEY: GOOD.secretAccessKey }, make).supplier({});
    createClientPool({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_PROFILE: 'p' }, make).supplier({});
    createClientPool({}, make).supplier({});
    expect(made).toEqual([{ credentials: GOOD }, { clientConfig: { profile: 'p' } }, {}]);
  });
});
