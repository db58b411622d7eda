import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { z } from 'zod';
import { decrypt, encrypt, type Keyring } from '@envelope/core';
import {
  buildKeyring,
  buildMaterialsManager,
  callbackAuditSink,
  createRegistry,
  defineKeyringProvider,
  keyringProviderModule,
  type AuditEvent,
} from '../src/index.js';

const key = () => randomBytes(32).toString('base64');
const aes = (name: string, k = key()) => ({ type: 'raw-aes', namespace: 'cfg', name, key: k });

async function roundTrip(encryptWith: Keyring, decryptWith: Keyring = encryptWith): Promise<void> {
  const { ciphertext } = await encrypt(Buffer.from('config'), { keyring: encryptWith, suite: 0x0478 });
  expect(Buffer.from((await decrypt(ciphertext, { keyring: decryptWith })).plaintext).toString()).toBe('config');
}

describe('schemas: valid configurations build working keyrings', () => {
  it('raw-aes inline and from a file (relative to baseDir)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cfg-'));
    const k = randomBytes(32);
    await writeFile(path.join(dir, 'k.bin'), k, { mode: 0o600 });
    const a = await buildKeyring(aes('k', k.toString('base64')));
    const b = await buildKeyring({ type: 'raw-aes', namespace: 'cfg', name: 'k', keyFile: 'k.bin' }, { baseDir: dir });
    await roundTrip(a, b);
  });

  it('raw-rsa from PEM files; a private key alone both encrypts and decrypts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cfg-'));
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await writeFile(path.join(dir, 'rsa.pem'), privateKey, { mode: 0o600 });
    const k = await buildKeyring({
      type: 'raw-rsa',
      namespace: 'cfg',
      name: 'rsa',
      privateKeyFile: path.join(dir, 'rsa.pem'),
      padding: 'oaep-sha256',
    });
    await roundTrip(k);
  });

  it('multi: generator and children, nested', async () => {
    const g = aes('g');
    const c1 = aes('c1');
    const c2 = aes('c2');
    const k = await buildKeyring({ type: 'multi', generator: g, children: [c1, { type: 'multi', children: [c2] }] });
    for (const only of [g, c1, c2]) await roundTrip(k, await buildKeyring(only));
  });

  it('file form with a cache section builds a materials manager', async () => {
    const mm = await buildMaterialsManager({ keyring: aes('x'), cache: { maxAgeMs: 60_000, maxMessagesEncrypted: 10 } });
    const { ciphertext } = await encrypt(Buffer.from('m'), { materialsManager: mm, suite: 0x0478 });
    expect(Buffer.from((await decrypt(ciphertext, { materialsManager: mm })).plaintext).toString()).toBe('m');
  });
});

describe('schemas: invalid configurations name the path and the problem', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', 42, /^config: expected object/],
    [
      'unknown type',
      { type: 'nope' },
      /^keyring\.type: unknown keyring type "nope" \(known: aws-kms, aws-kms-discovery, aws-kms-hierarchical, aws-kms-multi-region, multi, raw-aes, raw-rsa\)/,
    ],
    ['neither a keyring nor the file form', {}, /^keyring: missing \(the file form needs "keyring"; a keyring object needs "type"\)/],
    ['keyring without a type', { keyring: {} }, /^keyring\.type: unknown keyring type undefined/],
    ['raw-aes without key', { type: 'raw-aes', namespace: 'n', name: 'x' }, /^keyring: give exactly one of key or keyFile/],
    [
      'raw-aes with both',
      { type: 'raw-aes', namespace: 'n', name: 'x', key: key(), keyFile: 'f' },
      /^keyring: give exactly one of key or keyFile/,
    ],
    ['raw-aes bad base64', { type: 'raw-aes', namespace: 'n', name: 'x', key: '!!!' }, /^keyring\.key: expected base64/],
    [
      'raw-aes short key',
      { type: 'raw-aes', namespace: 'n', name: 'x', key: randomBytes(10).toString('base64') },
      /^keyring\.key: expected a 16, 24 or 32-byte AES key/,
    ],
    [
      'raw-aes empty namespace',
      { type: 'raw-aes', namespace: '', name: 'x', key: key() },
      /^keyring\.namespace: expected a non-empty string/,
    ],
    ['raw-aes unknown field', { type: 'raw-aes', namespace: 'n', name: 'x', key: key(), extra: 1 }, /^keyring\.extra: unknown field$/],
    [
      'raw-aes misspelt field',
      { type: 'raw-aes', namespace: 'n', name: 'x', kyeFile: 'k' },
      /^keyring\.kyeFile: unknown field \(did you mean "keyFile"\?\)/,
    ],
    [
      'raw-aes missing key file',
      { type: 'raw-aes', namespace: 'n', name: 'x', keyFile: '/nonexistent/k' },
      /^keyring\.keyFile: cannot read "\/nonexistent\/k" \(ENOENT\)/,
    ],
    ['raw-rsa bad padding', { type: 'raw-rsa', namespace: 'n', name: 'x', privateKey: 'pem', padding: 'oaep-md5' }, /^keyring\.padding: /],
    ['raw-rsa no key', { type: 'raw-rsa', namespace: 'n', name: 'x' }, /^keyring: give privateKeyFile or publicKeyFile/],
    ['multi empty', { type: 'multi' }, /^keyring: a multi keyring needs a generator or children/],
    [
      'multi nested child error',
      { type: 'multi', children: [aes('a'), { type: 'raw-aes', namespace: 'n', name: 'x' }] },
      /^keyring\.children\[1\]: give exactly one of key or keyFile/,
    ],
    [
      'multi nested generator error',
      { type: 'multi', generator: { type: 'raw-aes', namespace: 'n', name: 3, key: key() } },
      /^keyring\.generator\.name: expected string/,
    ],
    ['cache without maxAge', { keyring: aes('a'), cache: {} }, /^cache\.maxAgeMs: expected number/],
    ['plugins not strings', { plugins: [1], keyring: aes('a') }, /^plugins\[0\]: expected string, got number/],
  ];
  for (const [name, config, message] of cases) {
    it(name, async () => {
      const err = await buildMaterialsManager(config).catch((e) => e);
      expect(err).toMatchObject({ code: 'ENVELOPE_CONFIG' });
      expect(err.message).toMatch(message);
    });
  }
});

describe('providers and plugins', () => {
  const echo = defineKeyringProvider({
    type: 'test-double-wrap',
    schema: z.strictObject({ type: z.literal('test-double-wrap'), inner: z.array(z.unknown()).length(2) }),
    async create(c, deps, at) {
      const { MultiKeyring } = await import('@envelope/core');
      return new MultiKeyring({
        generator: await deps.build(c.inner[0], `${at}.inner[0]`),
        children: [await deps.build(c.inner[1], `${at}.inner[1]`)],
      });
    },
  });

  it('a provider registered through a container module builds like a built-in', async () => {
    const registry = createRegistry().load(keyringProviderModule(echo));
    const k = await registry.build({ type: 'test-double-wrap', inner: [aes('a'), aes('b')] });
    await roundTrip(k);
    await expect(registry.build({ type: 'test-double-wrap', inner: [aes('a')] })).rejects.toThrow(/^keyring\.inner: /);
  });

  it('a duplicate registration is a clear error', () => {
    const registry = createRegistry().load(keyringProviderModule(echo));
    expect(() => registry.load(keyringProviderModule(echo))).toThrow(/keyring type "test-double-wrap" is registered twice/);
    expect(() => createRegistry().load(keyringProviderModule({ ...echo, type: 'raw-aes' } as typeof echo))).toThrow(
      /"raw-aes" is registered twice/,
    );
  });

  it('a plugin named by several configurations built from one registry loads once', async () => {
    const registry = createRegistry({ env: { K: key() } });
    const config = { plugins: ['@envelope/keyring-env'], keyring: { type: 'env-aes', namespace: 'a', name: 'b', variable: 'K' } };
    const a = await buildKeyring(config, { registry });
    const b = await buildKeyring(config, { registry });
    await roundTrip(a, b);
    expect(registry.types().filter((t) => t === 'env-aes')).toEqual(['env-aes']);
  });

  it('a plugin that cannot be found, or exports the wrong thing, is a clear error', async () => {
    await expect(buildKeyring({ plugins: ['@envelope/no-such-plugin'], keyring: aes('a') })).rejects.toThrow(
      /^plugins\[0\]: cannot load plugin "@envelope\/no-such-plugin"/,
    );
    await expect(buildKeyring({ plugins: ['zod'], keyring: aes('a') })).rejects.toThrow(
      /^plugins\[0\]: plugin "zod" does not export a config module/,
    );
  });
});

describe('audit events', () => {
  it('generate, wrap and unwrap events with keyring type, key label, latency and context keys only', async () => {
    const events: AuditEvent[] = [];
    const audit = callbackAuditSink((e) => events.push(e));
    const k = await buildKeyring({ type: 'multi', generator: aes('g'), children: [aes('c')] }, { audit });
    const { ciphertext } = await encrypt(Buffer.from('a'), { keyring: k, suite: 0x0478, encryptionContext: { tenant: 'secret-tenant' } });
    await decrypt(ciphertext, { keyring: k });
    expect(events.map((e) => `${e.operation}:${e.keyId}:${e.outcome}`)).toEqual([
      'generate:cfg/g:success',
      'wrap:cfg/c:success',
      'unwrap:cfg/g:success',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ keyringType: 'raw-aes', contextKeys: ['tenant'] });
      expect(e.latencyMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(e)).not.toContain('secret-tenant');
    }
  });

  it('context values only when asked; failures carry the error code', async () => {
    const events: AuditEvent[] = [];
    const audit = callbackAuditSink((e) => events.push(e), { includeContextValues: true });
    const k = await buildKeyring(aes('g'), { audit });
    const { ciphertext } = await encrypt(Buffer.from('a'), { keyring: k, suite: 0x0478, encryptionContext: { tenant: 't' } });
    expect(events[0]!.context).toEqual({ tenant: 't' });
    const other = await buildKeyring({ type: 'raw-aes', namespace: 'cfg', name: 'g', key: key() }, { audit });
    await expect(decrypt(ciphertext, { keyring: other })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect(events.at(-1)).toMatchObject({ operation: 'unwrap', outcome: 'failure', error: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
  });
});

describe('KMS keyring schemas', () => {
  const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const cases: [string, unknown, RegExp][] = [
    ['aws-kms keyId not an ARN', { type: 'aws-kms', keyId: 'abc' }, /^keyring\.keyId: expected a key or alias ARN/],
    ['aws-kms bad endpoint', { type: 'aws-kms', keyId: arn, endpoint: 'not a url' }, /^keyring\.endpoint: expected a URL/],
    [
      'multi-region key not an ARN',
      { type: 'aws-kms-multi-region', keys: [{ keyId: arn }, { keyId: 'alias/x' }] },
      /^keyring\.keys\[1\]\.keyId: expected an ARN/,
    ],
    ['multi-region no keys', { type: 'aws-kms-multi-region', keys: [] }, /^keyring\.keys: expected at least one key/],
    [
      'multi-region bad policy',
      { type: 'aws-kms-multi-region', keys: [{ keyId: arn }], encryptPolicy: 'most' },
      /^keyring\.encryptPolicy: /,
    ],
    [
      'discovery bad account',
      { type: 'aws-kms-discovery', regions: ['us-east-1'], filter: { partition: 'aws', accountIds: ['12'] } },
      /^keyring\.filter\.accountIds\[0\]: expected a 12-digit account id/,
    ],
    ['discovery no regions', { type: 'aws-kms-discovery', regions: [] }, /^keyring\.regions: expected at least one region/],
    [
      'child of multi',
      {
        type: 'multi',
        children: [
          { type: 'aws-kms', keyId: arn },
          { type: 'aws-kms', keyId: 'x' },
        ],
      },
      /^keyring\.children\[1\]\.keyId: expected a key or alias ARN/,
    ],
  ];
  for (const [name, config, message] of cases) {
    it(name, async () => {
      const err = await buildKeyring(config).catch((e) => e);
      expect(err).toMatchObject({ code: 'ENVELOPE_CONFIG' });
      expect(err.message).toMatch(message);
    });
  }
  it('valid KMS configurations build keyrings', async () => {
    const multi = await buildKeyring({
      type: 'aws-kms-multi-region',
      keys: [{ keyId: arn }, { keyId: arn.replace('us-east-1', 'eu-west-1') }],
      encryptPolicy: { quorum: 1 },
      endpoint: 'http://127.0.0.1:4566',
      hedgeAfterMs: 50,
      deadlineMs: 2000,
    });
    expect(multi).toBeDefined();
    expect(await buildKeyring({ type: 'aws-kms', keyId: arn, additionalKeyIds: [arn.replace('us-east-1', 'us-west-2')] })).toBeDefined();
    expect(
      await buildKeyring({ type: 'aws-kms-discovery', regions: ['us-east-1'], filter: { partition: 'aws', accountIds: ['111122223333'] } }),
    ).toBeDefined();
  });
});
