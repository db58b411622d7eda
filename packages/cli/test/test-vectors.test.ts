import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { encrypt, RequiredEncryptionContextMaterialsManager } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { loadDecryptManifest, runManifests, summaryLine } from '../src/test-vectors/index.js';
import { run } from './helpers.js';

async function fixture() {
  const dir = await mkdtemp(path.join(tmpdir(), 'tv-'));
  const key = randomBytes(32);
  const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k1', wrappingKey: key });
  const pt = randomBytes(300);
  await writeFile(path.join(dir, 'pt'), pt);
  await writeFile(path.join(dir, 'ct'), (await encrypt(pt, { keyring, suite: 0x0478, encryptionContext: { a: '1' } })).ciphertext);
  const rec = new RequiredEncryptionContextMaterialsManager({ underlying: keyring, requiredEncryptionContextKeys: ['a'] });
  await writeFile(path.join(dir, 'ct-rec'), (await encrypt(pt, { materialsManager: rec, suite: 0x0478, encryptionContext: { a: '1', b: '2' } })).ciphertext);
  const bad = Buffer.from((await encrypt(pt, { keyring, suite: 0x0478 })).ciphertext);
  bad[bad.length - 20]! ^= 1;
  await writeFile(path.join(dir, 'ct-bad'), bad);
  for (const v of [1, 2, 3]) {
    await writeFile(
      path.join(dir, `keys-v${v}.json`),
      JSON.stringify({
        manifest: { type: 'keys', version: v },
        keys: { aes: { 'key-id': 'k1', type: 'symmetric', algorithm: 'aes', bits: 256, encoding: 'base64', material: key.toString('base64'), encrypt: true, decrypt: true }, kms: { type: 'aws-kms', 'key-id': 'arn:aws:kms:us-west-2:1:key/x' } },
      }),
    );
  }
  return dir;
}

const raw = { type: 'raw', key: 'aes', 'provider-id': 'ns', 'encryption-algorithm': 'aes' };
const write = async (dir: string, name: string, m: unknown) => {
  const f = path.join(dir, name);
  await writeFile(f, JSON.stringify(m));
  return f;
};

describe('test-vector manifests, every version', () => {
  it('v1/v2 (plaintext at the test level), v3/v4 (result), v5 (keyring descriptions) all run', async () => {
    const dir = await fixture();
    const files = [
      await write(dir, 'v1.json', { manifest: { type: 'awses-decrypt', version: 1 }, keys: 'file://keys-v1.json', tests: { t: { ciphertext: 'file://ct', plaintext: 'file://pt', 'master-keys': [raw] } } }),
      await write(dir, 'v2.json', { manifest: { type: 'awses-decrypt', version: 2 }, keys: 'file://keys-v2.json', tests: { t: { ciphertext: 'file://ct', plaintext: 'file://pt', 'master-keys': [raw] } } }),
      await write(dir, 'v3.json', {
        manifest: { type: 'awses-decrypt', version: 3 },
        keys: 'file://keys-v3.json',
        tests: {
          ok: { ciphertext: 'file://ct', 'master-keys': [raw], result: { output: { plaintext: 'file://pt' } } },
          bad: { ciphertext: 'file://ct-bad', 'master-keys': [raw], result: { error: { 'error-description': 'bit flip' } } },
          kms: { ciphertext: 'file://ct', 'master-keys': [{ type: 'aws-kms', key: 'kms' }], result: { output: { plaintext: 'file://pt' } } },
        },
      }),
      await write(dir, 'v4.json', {
        manifest: { type: 'awses-decrypt', version: 4 },
        keys: 'file://keys-v3.json',
        tests: { rec: { ciphertext: 'file://ct-rec', 'master-keys': [raw], cmm: 'RequiredEncryptionContext', 'encryption-context': { a: '1' }, result: { output: { plaintext: 'file://pt' } } } },
      }),
      await write(dir, 'v5.json', {
        manifest: { type: 'awses-decrypt', version: 5 },
        keys: 'file://keys-v3.json',
        tests: {
          multi: { ciphertext: 'file://ct', decryptKeyDescription: { type: 'multi-keyring', childKeyrings: [{ ...raw, key: 'aes' }] }, result: { output: { plaintext: 'file://pt' } } },
          rec: {
            ciphertext: 'file://ct-rec',
            decryptKeyDescription: { type: 'required-encryption-context-cmm', underlying: raw, requiredEncryptionContextKeys: ['a'] },
            reproducedEncryptionContext: { a: '1' },
            result: { output: { plaintext: 'file://pt' } },
          },
          recMissing: {
            ciphertext: 'file://ct-rec',
            decryptKeyDescription: { type: 'required-encryption-context-cmm', underlying: raw, requiredEncryptionContextKeys: ['a'] },
            result: { error: { 'error-description': 'no reproduced context' } },
          },
        },
      }),
    ];
    const r = await runManifests(files);
    expect(r.results.filter((x) => x.status === 'failed')).toEqual([]);
    expect(summaryLine(r)).toBe('8 passed, 0 failed, 1 skipped');
    expect(r.results.find((x) => x.status === 'skipped')?.reason).toBe('needs AWS KMS');
  });

  it('a wrong plaintext fails; a must-fail test that decrypts fails', async () => {
    const dir = await fixture();
    await writeFile(path.join(dir, 'other'), 'nope');
    const f = await write(dir, 'm.json', {
      manifest: { type: 'awses-decrypt', version: 3 },
      keys: 'file://keys-v3.json',
      tests: {
        wrong: { ciphertext: 'file://ct', 'master-keys': [raw], result: { output: { plaintext: 'file://other' } } },
        shouldFail: { ciphertext: 'file://ct', 'master-keys': [raw], result: { error: { 'error-description': 'x' } } },
      },
    });
    const cli = await run(['test-vectors', f]);
    expect(cli.code).toBe(1);
    const lines = cli.stdout.toString().trim().split('\n');
    expect(lines.at(-1)).toBe('0 passed, 2 failed, 0 skipped');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toHaveLength(2);
  });

  it('bad manifests are clear errors naming the path', async () => {
    const dir = await fixture();
    const cases: [unknown, RegExp][] = [
      [{ manifest: { type: 'awses-encrypt', version: 1 }, tests: {} }, /manifest\.type: expected "awses-decrypt"/],
      [{ manifest: { type: 'awses-decrypt', version: 9 }, tests: {} }, /manifest\.version: unsupported decrypt manifest version 9/],
      [{ manifest: { type: 'awses-decrypt', version: 3 }, tests: { t: { ciphertext: 'http://x', 'master-keys': [raw], result: { error: {} } } } }, /tests\.t\.ciphertext: expected a file:\/\/ URI/],
      [{ manifest: { type: 'awses-decrypt', version: 3 }, tests: { t: { ciphertext: 'file://ct', 'master-keys': [], result: {} } } }, /tests\.t\.master-keys: expected a non-empty array/],
      [{ manifest: { type: 'awses-decrypt', version: 3 }, keys: 'file://missing.json', tests: {} }, /missing\.json: cannot read \(ENOENT\)/],
    ];
    for (const [m, re] of cases) await expect(loadDecryptManifest(await write(dir, `bad-${Math.random()}.json`, m))).rejects.toThrow(re);
  });
});
