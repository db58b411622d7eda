/**
 * Issue 14 point 4, the configuration side: the file form's `"audit": {"file": …}` writes JSON
 * lines; unknown fields in the file form and in every keyring shape are errors naming the path.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { lstat, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decrypt, encrypt } from '@envelope/core';
import { buildKeyring, buildMaterialsManager, splitConfig, type AuditEvent } from '../src/index.js';
import { scratchDirs } from './helpers/scratch.js';

const scratch = scratchDirs('cfg-file-');

const aes = () => ({ type: 'raw-aes', namespace: 'f', name: 'k', key: randomBytes(32).toString('base64') });
const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

async function configError(config: unknown): Promise<string> {
  const err = await buildMaterialsManager(config).catch((e: Error & { code?: string }) => e);
  expect(err).toMatchObject({ code: 'ENVELOPE_CONFIG' });
  return (err as Error).message;
}

describe('14.4: the file form', () => {
  it('14.4: an unknown field in the file form is an error naming it (a typo of "cache" is no longer ignored)', async () => {
    expect(await configError({ keyring: aes(), cahce: { maxAgeMs: 1000 } })).toBe('cahce: unknown field (did you mean "cache"?)');
    expect(await configError({ keyrnig: aes() })).toBe('keyrnig: unknown field (did you mean "keyring"?)');
    expect(await configError({ keyring: aes(), audit: { fiel: 'a.jsonl' } })).toMatch(
      /^audit\.fiel: unknown field \(did you mean "file"\?\)/,
    );
    expect(await configError({ keyring: aes(), cache: { maxAgeMs: 1000, capcity: 5 } })).toBe(
      'cache.capcity: unknown field (did you mean "capacity"?)',
    );
    expect(await configError({ keyring: aes(), plugins: 'x' })).toBe('plugins: expected array, got string');
  });

  it('14.4: "audit": {"file": …} writes one JSON object per line, created 0600, relative to the configuration', async () => {
    const dir = await scratch();
    const mm = await buildMaterialsManager({ keyring: aes(), audit: { file: 'audit.jsonl' } }, { baseDir: dir });
    const { ciphertext } = await encrypt(Buffer.from('a'), { materialsManager: mm, suite: 0x0478, encryptionContext: { tenant: 't1' } });
    await decrypt(ciphertext, { materialsManager: mm });
    const file = path.join(dir, 'audit.jsonl');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as AuditEvent);
    expect(events.map((e) => `${e.operation}:${e.keyringType}:${e.keyId}:${e.contextKeys.join()}`)).toEqual([
      'generate:raw-aes:f/k:tenant',
      'unwrap:raw-aes:f/k:tenant',
    ]);
    expect(lines.join('\n')).not.toContain('t1');
    expect((await lstat(file)).mode & 0o777).toBe(0o600);
  });

  it('14.4: the audit file appends across builds, goes beside any sink the caller gives, and refuses a link', async () => {
    const dir = await scratch();
    const file = path.join(dir, 'audit.jsonl');
    const seen: AuditEvent[] = [];
    const { callbackAuditSink } = await import('../src/index.js');
    for (let i = 0; i < 2; i++) {
      const k = await buildKeyring({ keyring: aes(), audit: { file } }, { audit: callbackAuditSink((e) => seen.push(e)) });
      await encrypt(Buffer.from('a'), { keyring: k, suite: 0x0478 });
    }
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(seen).toHaveLength(2);
    await symlink(file, path.join(dir, 'link.jsonl'));
    expect(await configError({ keyring: aes(), audit: { file: path.join(dir, 'link.jsonl') } })).toMatch(
      /^audit\.file: ".*link\.jsonl" is a symbolic link$/,
    );
    expect(await configError({ keyring: aes(), audit: { file: path.join(dir, 'no', 'such', 'dir.jsonl') } })).toMatch(
      /^audit\.file: cannot open ".*dir\.jsonl" \(ENOENT\)$/,
    );
  });

  it("with a shared registry: each configuration's own directory, and its audit file beside the registry's sink", async () => {
    const [a, b] = [await scratch(), await scratch()];
    for (const d of [a, b]) await writeFile(path.join(d, 'k.bin'), randomBytes(32), { mode: 0o600 });
    const { callbackAuditSink, createRegistry } = await import('../src/index.js');
    const seen: AuditEvent[] = [];
    const registry = createRegistry({ audit: callbackAuditSink((e) => seen.push(e)) });
    const config = { keyring: { type: 'raw-aes', namespace: 'n', name: 'k', keyFile: 'k.bin' }, audit: { file: 'audit.jsonl' } };
    const ka = await buildKeyring(config, { registry, baseDir: a });
    await encrypt(Buffer.from('x'), { keyring: ka, suite: 0x0478 });
    expect(seen).toHaveLength(1);
    expect((await readFile(path.join(a, 'audit.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
    // The second configuration's key file is its own directory's; its audit section comes too late.
    const kb = await buildKeyring({ type: 'raw-aes', namespace: 'n', name: 'k', keyFile: 'k.bin' }, { registry, baseDir: b });
    await expect(
      decrypt((await encrypt(Buffer.from('x'), { keyring: kb, suite: 0x0478 })).ciphertext, { keyring: ka }),
    ).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    expect(await buildKeyring(config, { registry, baseDir: b }).catch((e: Error) => e.message)).toMatch(
      /^audit: the registry has built keyrings already/,
    );
    await expect(readFile(path.join(b, 'audit.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('the keyring-object form keeps "plugins" and "cache" beside "type"', () => {
    const k = aes();
    expect(splitConfig({ ...k, plugins: ['p'], cache: { maxAgeMs: 1 } })).toEqual({
      plugins: ['p'],
      keyring: k,
      keyringPath: 'keyring',
      cache: { maxAgeMs: 1 },
      audit: undefined,
    });
  });
});

describe('14.4: unknown fields in every keyring shape name their path', () => {
  const shapes: [string, Record<string, unknown>, string][] = [
    ['raw-aes', aes(), 'keyring.bogus'],
    ['raw-rsa', { type: 'raw-rsa', namespace: 'n', name: 'k', publicKey: 'pem' }, 'keyring.bogus'],
    ['multi', { type: 'multi', children: [aes()] }, 'keyring.bogus'],
    ['aws-kms', { type: 'aws-kms', keyId: arn }, 'keyring.bogus'],
    ['aws-kms-discovery', { type: 'aws-kms-discovery', regions: ['us-east-1'] }, 'keyring.bogus'],
    ['aws-kms-multi-region', { type: 'aws-kms-multi-region', keys: [{ keyId: arn }] }, 'keyring.bogus'],
    [
      'aws-kms-hierarchical',
      { type: 'aws-kms-hierarchical', branchKeyId: 'b', keyStore: { tableName: 'keys', logicalKeyStoreName: 'keys', kmsKeyArn: arn } },
      'keyring.bogus',
    ],
  ];
  for (const [type, shape, at] of shapes) {
    it(`14.4: ${type}`, async () => {
      expect(await configError({ ...shape, bogus: 1 })).toBe(`${at}: unknown field`);
    });
  }

  it('14.4: nested objects too', async () => {
    expect(await configError({ type: 'multi', children: [{ ...aes(), nmae: 'x' }] })).toBe(
      'keyring.children[0].nmae: unknown field (did you mean "name"?)',
    );
    expect(await configError({ type: 'aws-kms-multi-region', keys: [{ keyId: arn, region: 'x' }] })).toBe(
      'keyring.keys[0].region: unknown field',
    );
    expect(
      await configError({
        type: 'aws-kms-discovery',
        regions: ['us-east-1'],
        filter: { partition: 'aws', accountIds: ['111122223333'], x: 1 },
      }),
    ).toBe('keyring.filter.x: unknown field');
    expect(await configError({ type: 'aws-kms', keyId: arn, credentials: { accessKeyId: 'a', secretAccessKey: 'b', token: 'c' } })).toBe(
      'keyring.credentials.token: unknown field',
    );
    expect(
      await configError({
        type: 'aws-kms-hierarchical',
        branchKeyId: 'b',
        keyStore: { tableName: 'keys', logicalKeyStoreName: 'keys', kmsKeyArn: arn, tabelName: 'x' },
      }),
    ).toBe('keyring.keyStore.tabelName: unknown field (did you mean "tableName"?)');
  });

  it('14.4: a plugin type validated by zod also names the field', async () => {
    const message = await buildKeyring({
      plugins: ['@envelope/keyring-env'],
      keyring: { type: 'env-aes', namespace: 'n', name: 'k', variable: 'V', varaible: 'W' },
    }).catch((e: Error) => e.message);
    expect(message).toBe('keyring.varaible: unknown field');
  });
});

describe('inline secrets in a file are only warned about; a key file is the way', () => {
  it('a configuration with a key file builds (0600)', async () => {
    const dir = await scratch();
    await writeFile(path.join(dir, 'k.bin'), randomBytes(32), { mode: 0o600 });
    expect(await buildKeyring({ type: 'raw-aes', namespace: 'n', name: 'k', keyFile: 'k.bin' }, { baseDir: dir })).toBeDefined();
  });
});
