import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { EnvelopeError, MultiKeyring, RequiredEncryptionContextMaterialsManager, encrypt, type MaterialsManager } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';
import {
  NEEDS_KMS,
  PKCS1_SKIP_REASON,
  judge,
  loadDecryptManifest,
  parseKeyDescription,
  parseKeysManifest,
  runManifests,
  skipReason,
  skipReasonLines,
  summaryLine,
} from '../src/test-vectors/index.js';
import { run } from './helpers.js';

const aesKey = randomBytes(32);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPrivate = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'aes-key-id', wrappingKey: aesKey });
const rsaKeyring = new RawRsaKeyring({
  keyNamespace: 'ns-rsa',
  keyName: 'rsa-private',
  publicKey: rsaPublic,
  privateKey: rsaPrivate,
  padding: 'oaep-sha256',
});

const keysJson = (version: number) => ({
  manifest: { type: 'keys', version },
  keys: {
    aes: {
      'key-id': 'aes-key-id',
      type: 'symmetric',
      algorithm: 'aes',
      bits: 256,
      encoding: 'base64',
      material: aesKey.toString('base64'),
      encrypt: true,
      decrypt: true,
    },
    'rsa-private': { type: 'private', algorithm: 'rsa', bits: 2048, encoding: 'pem', material: rsaPrivate, encrypt: true, decrypt: true },
    'rsa-public': { type: 'public', algorithm: 'rsa', bits: 2048, encoding: 'pem', material: rsaPublic, encrypt: true, decrypt: false },
    kms: { type: 'aws-kms', 'key-id': 'arn:aws:kms:us-west-2:111122223333:key/x', encrypt: true, decrypt: true },
  },
});

/** A folder with ciphertexts made by our own encrypt, keys manifests v1–v3, and plaintext `pt`. */
async function fixture(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tv-'));
  const pt = randomBytes(3000);
  const put = (name: string, bytes: Uint8Array) => writeFile(path.join(dir, name), bytes);
  await put('pt', pt);
  await put('ct', (await encrypt(pt, { keyring: aes, suite: 0x0478, encryptionContext: { a: '1' }, frameLength: 512 })).ciphertext);
  await put('ct-v1', (await encrypt(pt, { keyring: aes, suite: 0x0178, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })).ciphertext);
  await put('ct-signed', (await encrypt(pt, { keyring: aes, suite: 0x0578 })).ciphertext);
  const rec = new RequiredEncryptionContextMaterialsManager({ underlying: aes, requiredEncryptionContextKeys: ['a'] });
  await put('ct-rec', (await encrypt(pt, { materialsManager: rec, suite: 0x0478, encryptionContext: { a: '1', b: '2' } })).ciphertext);
  await put('ct-rsa', (await encrypt(pt, { keyring: new MultiKeyring({ generator: rsaKeyring }), suite: 0x0478 })).ciphertext);
  const bad = Buffer.from((await encrypt(pt, { keyring: aes, suite: 0x0478 })).ciphertext);
  bad[bad.length - 20]! ^= 1;
  await put('ct-bad', bad);
  for (const v of [2, 3]) await writeFile(path.join(dir, `keys-v${v}.json`), JSON.stringify(keysJson(v)));
  // v1: material as a list of lines joined by line-separator; no key-id (the name is the key id).
  const v1 = keysJson(1) as { keys: Record<string, Record<string, unknown>> };
  v1.keys['aes-key-id'] = { ...v1.keys.aes, material: [aesKey.toString('base64')] };
  delete v1.keys['aes-key-id']!['key-id'];
  v1.keys['rsa-private'] = { ...v1.keys['rsa-private'], material: rsaPrivate.trim().split('\n'), 'line-separator': '\n' };
  await writeFile(path.join(dir, 'keys-v1.json'), JSON.stringify(v1));
  return dir;
}

const rawAes = { type: 'raw', key: 'aes', 'provider-id': 'ns', 'encryption-algorithm': 'aes' };
const rawRsa = {
  type: 'raw',
  key: 'rsa-private',
  'provider-id': 'ns-rsa',
  'encryption-algorithm': 'rsa',
  'padding-algorithm': 'oaep-mgf1',
  'padding-hash': 'sha256',
};
const decoy = { ...rawRsa, key: 'rsa-public', 'padding-hash': 'sha1' };
const ok = { output: { plaintext: 'file://pt' } };
const mustFail = { error: { 'error-description': 'bit flip' } };

async function write(dir: string, name: string, m: unknown): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, JSON.stringify(m));
  return f;
}
const decryptManifest = (version: number, tests: Record<string, unknown>, keys = 'file://keys-v3.json') => ({
  manifest: { type: 'awses-decrypt', version },
  client: { name: 'test', version: '1' },
  keys,
  tests,
});

describe('decrypt manifests v1–v5 run', () => {
  it('v1 (plaintext beside ciphertext, keys v1 with line lists), v2, v3 (result, multi-keyring with a public decoy), v4 (cmm), v5 (decryption-scenario and flat)', async () => {
    const dir = await fixture();
    const files = [
      await write(
        dir,
        'v1.json',
        decryptManifest(
          1,
          {
            t: { ciphertext: 'file://ct-v1', plaintext: 'file://pt', 'master-keys': [{ ...rawAes, key: 'aes-key-id' }] },
            rsa: { ciphertext: 'file://ct-rsa', plaintext: 'file://pt', 'master-keys': [rawRsa] },
          },
          'file://keys-v1.json',
        ),
      ),
      await write(
        dir,
        'v2.json',
        decryptManifest(2, { t: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: ok } }, 'file://keys-v2.json'),
      ),
      await write(
        dir,
        'v3.json',
        decryptManifest(3, {
          ok: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: ok },
          v1msg: { ciphertext: 'file://ct-v1', 'master-keys': [rawAes], result: ok },
          bad: { ciphertext: 'file://ct-bad', 'master-keys': [rawAes], result: mustFail },
          decoy: { ciphertext: 'file://ct-rsa', 'master-keys': [decoy, rawRsa], result: ok },
          kms: { ciphertext: 'file://ct', 'master-keys': [{ type: 'aws-kms', key: 'kms' }], result: ok },
        }),
      ),
      await write(
        dir,
        'v4.json',
        decryptManifest(4, {
          rec: {
            ciphertext: 'file://ct-rec',
            'master-keys': [rawAes],
            cmm: 'RequiredEncryptionContext',
            'encryption-context': { a: '1' },
            result: ok,
          },
          def: { ciphertext: 'file://ct', 'master-keys': [rawAes], cmm: 'Default', 'encryption-context': { a: '1' }, result: ok },
          defWrong: {
            ciphertext: 'file://ct',
            'master-keys': [rawAes],
            cmm: 'Default',
            'encryption-context': { a: '2' },
            result: mustFail,
          },
        }),
      ),
      await write(
        dir,
        'v5.json',
        decryptManifest(5, {
          scenario: {
            'decryption-scenario': {
              type: 'positive-esdk',
              ciphertext: 'file://ct-rec',
              result: 'file://pt',
              algorithmSuiteId: '0478',
              'frame-size': 4096,
              description: 'required context',
              decryptKeyDescription: {
                type: 'required-encryption-context-cmm',
                underlying: { type: 'multi-keyring', generator: rawAes, childKeyrings: [decoy] },
                requiredEncryptionContextKeys: ['a'],
              },
              'reproduced-encryption-context': { a: '1' },
            },
          },
          array: {
            'decryption-scenario': {
              type: 'positive-esdk',
              ciphertext: 'file://ct-rsa',
              result: 'file://pt',
              description: 'array = multi',
              decryptKeyDescription: [decoy, rawRsa],
            },
          },
          flat: {
            ciphertext: 'file://ct-rec',
            decryptKeyDescription: { type: 'required-encryption-context-cmm', underlying: rawAes, requiredEncryptionContextKeys: ['a'] },
            reproducedEncryptionContext: { a: '1' },
            result: ok,
          },
          recMissing: {
            ciphertext: 'file://ct-rec',
            decryptKeyDescription: { type: 'required-encryption-context-cmm', underlying: rawAes, requiredEncryptionContextKeys: ['a'] },
            result: mustFail,
          },
          hierarchy: {
            'decryption-scenario': {
              type: 'positive-esdk',
              ciphertext: 'file://ct',
              result: 'file://pt',
              decryptKeyDescription: { type: 'aws-kms-hierarchy', key: 'kms' },
            },
          },
          ecdh: {
            'decryption-scenario': {
              type: 'positive-esdk',
              ciphertext: 'file://ct',
              result: 'file://pt',
              decryptKeyDescription: {
                type: 'raw-ecdh',
                sender: 'a',
                recipient: 'b',
                'provider-id': 'p',
                'ecc-curve': 'ecc-256',
                schema: 'static',
              },
            },
          },
        }),
      ),
    ];
    const r = await runManifests(files);
    expect(r.results.filter((x) => x.status === 'failed')).toEqual([]);
    expect(summaryLine(r)).toBe('14 passed, 0 failed, 3 skipped');
    expect(r.manifests.map((m) => [m.version, m.tests])).toEqual([
      [1, 2],
      [2, 1],
      [3, 5],
      [4, 3],
      [5, 6],
    ]);
    // Results come back in manifest order, whatever finished first.
    expect(r.results.slice(0, 3).map((x) => x.id)).toEqual(['t', 'rsa', 't']);
    expect(skipReasonLines(r.results)).toEqual([`skipped 2: ${NEEDS_KMS}`, 'skipped 1: raw ECDH keyrings are not implemented']);
  });

  it('streaming-unsigned-only: a signed message must fail, an unsigned one decrypts; a wrong algorithmSuiteId fails', async () => {
    const dir = await fixture();
    const f = await write(
      dir,
      'm.json',
      decryptManifest(3, {
        signed: {
          ciphertext: 'file://ct-signed',
          'master-keys': [rawAes],
          'decryption-method': 'streaming-unsigned-only',
          result: mustFail,
        },
        unsigned: { ciphertext: 'file://ct', 'master-keys': [rawAes], 'decryption-method': 'streaming-unsigned-only', result: ok },
        signedNormally: { ciphertext: 'file://ct-signed', 'master-keys': [rawAes], result: ok },
      }),
    );
    expect(summaryLine(await runManifests([f]))).toBe('3 passed, 0 failed, 0 skipped');
    const g = await write(
      dir,
      'suite.json',
      decryptManifest(5, {
        t: {
          'decryption-scenario': {
            type: 'positive-esdk',
            ciphertext: 'file://ct',
            result: 'file://pt',
            algorithmSuiteId: '0578',
            decryptKeyDescription: rawAes,
          },
        },
      }),
    );
    const r = await runManifests([g]);
    expect(r.results[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/uses suite 0x0478, manifest says 0x0578/) });
  });
});

describe('keys manifests and key descriptions', () => {
  const keys = parseKeysManifest(keysJson(3), 'keys.json');
  const ctx = { file: 'm.json', keys };

  it('keys v1 joins material lines with line-separator and uses the name as key-id', () => {
    const k = parseKeysManifest(
      {
        manifest: { type: 'keys', version: 1 },
        keys: { pem: { type: 'private', encoding: 'pem', material: ['-----BEGIN', 'x', '-----END'], 'line-separator': '\n' } },
      },
      'k.json',
    );
    expect(k.lookup('pem').key).toMatchObject({ keyId: 'pem', material: '-----BEGIN\nx\n-----END' });
    expect(keys.lookup('aes').key?.keyId).toBe('aes-key-id');
  });

  it('maps master keys and v5 descriptions', () => {
    expect(parseKeyDescription(rawAes, 'd', ctx)).toEqual({ type: 'raw-aes', key: 'aes', providerId: 'ns' });
    expect(parseKeyDescription(rawRsa, 'd', ctx)).toEqual({
      type: 'raw-rsa',
      key: 'rsa-private',
      providerId: 'ns-rsa',
      padding: 'oaep-sha256',
    });
    // The MPL writes padding-hash "sha1" beside pkcs1; it is not a hash choice there.
    expect(parseKeyDescription({ ...rawRsa, 'padding-algorithm': 'pkcs1', 'padding-hash': 'sha1' }, 'd', ctx)).toMatchObject({
      padding: 'pkcs1',
    });
    expect(parseKeyDescription([rawAes, decoy], 'd', ctx)).toMatchObject({
      type: 'multi-keyring',
      generator: { type: 'raw-aes' },
      children: [{ type: 'raw-rsa', key: 'rsa-public' }],
    });
    expect(
      parseKeyDescription(
        { type: 'required-encryption-context-cmm', underlying: rawAes, requiredEncryptionContextKeys: ['a', 'b'] },
        'd',
        ctx,
      ),
    ).toEqual({
      type: 'required-encryption-context-cmm',
      underlying: { type: 'raw-aes', key: 'aes', providerId: 'ns' },
      requiredKeys: ['a', 'b'],
    });
    for (const t of ['aws-kms', 'aws-kms-mrk-aware', 'aws-kms-mrk-aware-discovery', 'aws-kms-rsa', 'aws-kms-hierarchy', 'aws-kms-ecdh']) {
      expect(parseKeyDescription({ type: t, key: 'kms' }, 'd', ctx)).toEqual({ type: 'unsupported', what: t, reason: NEEDS_KMS });
    }
    expect(parseKeyDescription({ type: 'static-material-keyring', key: 'x' }, 'd', ctx)).toMatchObject({
      type: 'unsupported',
      reason: /static-material/,
    });
    expect(parseKeyDescription({ type: 'rwa' }, 'd', ctx)).toMatchObject({
      type: 'unsupported',
      reason: 'unknown key description type "rwa"',
    });
  });

  it('skips: KMS anywhere in the tree; PKCS#1 v1.5 only when Node refuses it', () => {
    const multi = parseKeyDescription(
      { type: 'multi-keyring', generator: rawAes, childKeyrings: [{ type: 'aws-kms', key: 'kms' }] },
      'd',
      ctx,
    );
    expect(skipReason(multi)).toBe(NEEDS_KMS);
    const pkcs1 = parseKeyDescription({ ...rawRsa, 'padding-algorithm': 'pkcs1' }, 'd', ctx);
    expect(skipReason(pkcs1, () => false)).toBe(PKCS1_SKIP_REASON);
    expect(skipReason(pkcs1, () => true)).toBeUndefined();
    expect(skipReason(parseKeyDescription(rawRsa, 'd', ctx), () => false)).toBeUndefined();
  });
});

describe('bad manifests are clear errors naming the file and JSON path', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'wrong type',
      { manifest: { type: 'awses-encrypt', version: 1 }, tests: {} },
      /manifest\.type: expected "awses-decrypt", got "awses-encrypt"/,
    ],
    [
      'unknown version',
      { manifest: { type: 'awses-decrypt', version: 9 }, tests: {} },
      /manifest\.version: unsupported awses-decrypt manifest version 9 \(supported: 1, 2, 3, 4, 5\)/,
    ],
    ['not an object', [1, 2], /: \$: expected a JSON object/],
    ['no tests', { manifest: { type: 'awses-decrypt', version: 3 } }, /: tests: expected an object/],
    [
      'http URI',
      decryptManifest(3, { t: { ciphertext: 'http://x', 'master-keys': [rawAes], result: mustFail } }),
      /tests\.t\.ciphertext: expected a file:\/\/ URI, got "http:\/\/x"/,
    ],
    [
      'no master keys',
      decryptManifest(3, { t: { ciphertext: 'file://ct', 'master-keys': [], result: ok } }),
      /tests\.t\.master-keys: expected a non-empty array/,
    ],
    [
      'OAEP without hash',
      decryptManifest(3, { t: { ciphertext: 'file://ct', 'master-keys': [{ ...rawRsa, 'padding-hash': undefined }], result: ok } }),
      /master-keys\[0\]\.padding-hash: oaep-mgf1 needs one of sha1, sha256, sha384, sha512/,
    ],
    [
      'bad padding',
      decryptManifest(3, { t: { ciphertext: 'file://ct', 'master-keys': [{ ...rawRsa, 'padding-algorithm': 'oaep' }], result: ok } }),
      /padding-algorithm: expected "pkcs1" or "oaep-mgf1", got "oaep"/,
    ],
    [
      'both results',
      decryptManifest(3, { t: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: { ...ok, ...mustFail } } }),
      /tests\.t\.result: expected exactly one of "output" or "error"/,
    ],
    [
      'no result in v3',
      decryptManifest(3, { t: { ciphertext: 'file://ct', plaintext: 'file://pt', 'master-keys': [rawAes] } }),
      /tests\.t\.result: expected \{ output/,
    ],
    [
      'bad cmm',
      decryptManifest(4, { t: { ciphertext: 'file://ct', 'master-keys': [rawAes], cmm: 'Caching', result: ok } }),
      /tests\.t\.cmm: expected "Default" or "RequiredEncryptionContext", got "Caching"/,
    ],
    [
      'context not strings',
      decryptManifest(4, { t: { ciphertext: 'file://ct', 'master-keys': [rawAes], 'encryption-context': { a: 1 }, result: ok } }),
      /tests\.t\.encryption-context\.a: expected a string/,
    ],
    [
      'bad decryption-method',
      decryptManifest(3, { t: { ciphertext: 'file://ct', 'master-keys': [rawAes], 'decryption-method': 'oneshot', result: ok } }),
      /decryption-method: expected "streaming-unsigned-only"/,
    ],
    [
      'v5 bad type',
      decryptManifest(5, {
        t: {
          'decryption-scenario': { type: 'positive-keyring', ciphertext: 'file://ct', result: 'file://pt', decryptKeyDescription: rawAes },
        },
      }),
      /tests\.t\.decryption-scenario\.type: expected "positive-esdk" or "negative-esdk"/,
    ],
    [
      'v5 bad suite',
      decryptManifest(5, {
        t: {
          'decryption-scenario': {
            type: 'positive-esdk',
            ciphertext: 'file://ct',
            result: 'file://pt',
            algorithmSuiteId: 'beef',
            decryptKeyDescription: rawAes,
          },
        },
      }),
      /algorithmSuiteId: unknown algorithm suite "beef"/,
    ],
    [
      'v5 empty multi',
      decryptManifest(5, {
        t: { ciphertext: 'file://ct', result: ok, decryptKeyDescription: { type: 'multi-keyring', childKeyrings: [] } },
      }),
      /decryptKeyDescription: a multi-keyring needs a generator or childKeyrings/,
    ],
    ['missing keys manifest', decryptManifest(3, {}, 'file://missing.json'), /missing\.json: cannot read \(ENOENT\)/],
  ];
  it.each(cases)('%s', async (_name, m, re) => {
    const dir = await fixture();
    const err = await loadDecryptManifest(await write(dir, 'bad.json', m)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as EnvelopeError).code).toBe('ENVELOPE_CONFIG');
    expect((err as Error).message).toMatch(re);
  });
});

describe('15.c1: keys manifests with keys this runner does not use (the MPL 4.x keys manifest)', () => {
  const mplKeys = fileURLToPath(new URL('./fixtures/mpl-keys/keys.json', import.meta.url));
  // The manifest's own test keys: aes-256 (key id "aes-256") and rsa-4096 (key id "rsa-4096").
  const mpl = JSON.parse(readFileSync(mplKeys, 'utf8')) as { keys: Record<string, { material?: string }> };
  const aes256 = new RawAesKeyring({
    keyNamespace: 'aws-raw-vectors-persistent-aes-256',
    keyName: 'aes-256',
    wrappingKey: Buffer.from(mpl.keys['aes-256']!.material!, 'base64'),
  });
  const rsa4096 = new RawRsaKeyring({
    keyNamespace: 'aws-raw-vectors-persistent-rsa-4096',
    keyName: 'rsa-4096',
    publicKey: mpl.keys['rsa-4096-public']!.material!,
    padding: 'oaep-sha256',
  });
  const mplAes = { type: 'raw', 'encryption-algorithm': 'aes', 'provider-id': 'aws-raw-vectors-persistent-aes-256', key: 'aes-256' };
  const mplRsa = {
    type: 'raw',
    'encryption-algorithm': 'rsa',
    'provider-id': 'aws-raw-vectors-persistent-rsa-4096',
    'padding-algorithm': 'oaep-mgf1',
    'padding-hash': 'sha256',
    key: 'rsa-4096-private',
  };
  const scenario = (decryptKeyDescription: unknown, ciphertext = 'file://ct-aes') => ({
    'decryption-scenario': { type: 'positive-esdk', ciphertext, result: 'file://pt', decryptKeyDescription },
  });

  it('15.c1: the keys manifest loads; keys are read when a test uses them, each on its own', () => {
    const keys = parseKeysManifest(JSON.parse(readFileSync(mplKeys, 'utf8')), mplKeys);
    expect(keys.names).toEqual(expect.arrayContaining(['aes-256', 'static-branch-key-1', 'ecc-256-private', 'us-west-2-256-ecc']));
    expect(keys.lookup('us-west-2-256-ecc').key).toMatchObject({ type: 'aws-kms-ecdh', encoding: 'base64-der', keyId: 'ecc-256' });
    expect(keys.lookup('static-branch-key-1').key).toMatchObject({ type: 'static-branch-key' });
    expect(keys.lookup('ecc-256-private').key).toMatchObject({ type: 'ecc-private', material: undefined });
    expect(keys.lookup('aes-256').key).toMatchObject({ type: 'symmetric', keyId: 'aes-256', encoding: 'base64' });
    expect(keys.lookup('nope').problem).toBe('key "nope" is not in the keys manifest');
    const odd = parseKeysManifest(
      {
        manifest: { type: 'keys', version: 3 },
        keys: { k: { type: 'symmetric' }, d: { type: 'symmetric', encoding: 'base64-der', material: 'AA==' } },
      },
      'k.json',
    );
    expect(odd.lookup('k').problem).toBe('k.json: keys.k: a symmetric key needs "encoding" and "material"');
    expect(odd.lookup('d').problem).toBe('k.json: keys.d.encoding: a symmetric key\'s encoding must be base64, got "base64-der"');
  });

  it('15.c1: an unusable key fails only the tests that use it; unsupported key types skip theirs; the rest pass', async () => {
    const dir = await fixture();
    const pt = await readFile(path.join(dir, 'pt'));
    await writeFile(path.join(dir, 'ct-aes'), (await encrypt(pt, { keyring: aes256, suite: 0x0478 })).ciphertext);
    await writeFile(path.join(dir, 'ct-rsa4096'), (await encrypt(pt, { keyring: rsa4096, suite: 0x0578 })).ciphertext);
    await writeFile(path.join(dir, 'keys.json'), readFileSync(mplKeys));
    // Another keys manifest: one malformed entry beside a good one.
    await writeFile(
      path.join(dir, 'bad-keys.json'),
      JSON.stringify({ manifest: { type: 'keys', version: 3 }, keys: { k: { type: 'symmetric' }, 'aes-256': mpl.keys['aes-256'] } }),
    );
    const tests = {
      aes: scenario(mplAes),
      'aes-nonascii-name': scenario({ ...mplAes, key: '𝟁-nonascii-𐀂-aes-256-𝟁-with-�' }),
      rsa: scenario([mplRsa, { ...mplRsa, key: 'rsa-4096-public' }], 'file://ct-rsa4096'),
      'ecdh-raw': scenario({
        type: 'raw-ecdh',
        sender: 'ecc-256-private',
        recipient: 'ecc-256-private',
        'ecc-curve': 'ecc-256',
        schema: 'static',
      }),
      'ecdh-kms': scenario({ type: 'aws-kms-ecdh', sender: 'us-west-2-256-ecc', recipient: 'us-west-2-256-ecc' }),
      hierarchy: scenario({ type: 'aws-kms-hierarchy', key: 'static-branch-key-1' }),
      'static-material': scenario({ type: 'static-material-keyring', key: 'static-plaintext-data-key' }),
      'ecc-as-aes': scenario({ ...mplAes, key: 'ecc-256-private' }),
      'missing-key': scenario({ ...mplAes, key: 'aes-257' }),
      'aes-beside-ecc-as-aes': scenario([mplAes, { ...mplAes, key: 'ecc-256-private' }]),
    };
    const file = await write(dir, 'mpl.json', decryptManifest(5, tests, 'file://keys.json'));
    const other = await write(
      dir,
      'other.json',
      decryptManifest(5, { 'bad-key': scenario({ ...mplAes, key: 'k' }), fine: scenario(mplAes) }, 'file://bad-keys.json'),
    );
    const report = await runManifests([file, other]);
    const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
    for (const id of ['aes', 'aes-nonascii-name', 'rsa', 'fine']) expect(byId[id], id).toMatchObject({ status: 'passed' });
    expect(byId['ecdh-raw']).toMatchObject({ status: 'skipped', reason: 'raw ECDH keyrings are not implemented' });
    for (const id of ['ecdh-kms', 'hierarchy']) expect(byId[id], id).toMatchObject({ status: 'skipped', reason: NEEDS_KMS });
    expect(byId['static-material']).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/static-material/) });
    expect(byId['ecc-as-aes']).toEqual({
      manifest: file,
      id: 'ecc-as-aes',
      status: 'failed',
      reason: `${file}: tests.ecc-as-aes.decryption-scenario.decryptKeyDescription.key: key "ecc-256-private" is a ecc-private key (pem encoding); expected symmetric with base64 encoding`,
    });
    expect(byId['missing-key']).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/\.key: key "aes-257" is not in the keys manifest$/),
    });
    expect(byId['aes-beside-ecc-as-aes']).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/\[1\]\.key: key "ecc-256-private" is a ecc-private key/),
    });
    expect(byId['bad-key']).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(
        /\.key: key "k" cannot be used: .*bad-keys\.json: keys\.k: a symmetric key needs "encoding" and "material"$/,
      ),
    });
    expect(summaryLine(report)).toBe('4 passed, 4 failed, 4 skipped');
  });
});

describe('judging', () => {
  const throwing = (e: unknown): MaterialsManager => ({
    getEncryptionMaterials: () => Promise.reject(e),
    decryptMaterials: () => Promise.reject(e),
  });

  it('a negative test passes only on a coded EnvelopeError; a TypeError is a crash and fails', async () => {
    const ct = (await encrypt(Buffer.from('x'), { keyring: aes })).ciphertext;
    const negative = { expect: { error: 'must fail' } } as const;
    expect(await judge(negative, throwing(new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', 'no')), ct)).toEqual({ status: 'passed' });
    const crash = await judge(negative, throwing(new TypeError('x is undefined')), ct);
    expect(crash).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^decrypt: crash \(not an EnvelopeError\): TypeError: x is undefined/),
    });
    const positive = await judge({ expect: { plaintext: 'pt' } }, throwing(new RangeError('bad length')), ct, Buffer.from('x'));
    expect(positive.reason).toMatch(/crash \(not an EnvelopeError\): RangeError/);
  });
});

describe('the test-vectors command', () => {
  it('prints FAIL lines, grouped skip reasons and the last line; exit 1 when any failed', async () => {
    const dir = await fixture();
    await writeFile(path.join(dir, 'other'), 'nope');
    const f = await write(
      dir,
      'manifest.json',
      decryptManifest(3, {
        wrong: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: { output: { plaintext: 'file://other' } } },
        shouldFail: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: mustFail },
        good: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: ok },
        kms1: { ciphertext: 'file://ct', 'master-keys': [{ type: 'aws-kms', key: 'kms' }], result: ok },
        kms2: { ciphertext: 'file://ct', 'master-keys': [{ type: 'aws-kms', key: 'kms' }], result: mustFail },
      }),
    );
    const cli = await run(['test-vectors', f]);
    expect(cli.code).toBe(1);
    const lines = cli.stdout.toString().trim().split('\n');
    const set = path.basename(dir);
    expect(lines.filter((l) => l.startsWith('FAIL')).sort()).toEqual([
      `FAIL ${set}/shouldFail: decrypt decrypted it, but it must fail (bit flip)`,
      `FAIL ${set}/wrong: decrypt: plaintext differs (3000 bytes, expected 4)`,
    ]);
    expect(lines.at(-2)).toBe('skipped 2: needs AWS KMS');
    expect(lines.at(-1)).toBe('1 passed, 2 failed, 2 skipped');

    const verbose = await run(['test-vectors', '--verbose', '--concurrency', '1', f]);
    expect(verbose.stdout.toString()).toContain(`ok   ${set}/good\n`);
    expect(verbose.stdout.toString()).toContain(`skip ${set}/kms1: needs AWS KMS\n`);
  });

  it('--json: one line of JSON, then the summary as the last line; exit 0 when none failed', async () => {
    const dir = await fixture();
    const f = await write(dir, 'm.json', decryptManifest(3, { good: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: ok } }));
    const cli = await run(['test-vectors', '--json', f]);
    expect(cli.code).toBe(0);
    const lines = cli.stdout.toString().trim().split('\n');
    expect(lines).toHaveLength(2);
    const report = JSON.parse(lines[0]!);
    expect(report).toMatchObject({
      passed: 1,
      failed: 0,
      skipped: 0,
      manifests: [{ version: 3, tests: 1 }],
      results: [{ id: 'good', status: 'passed' }],
    });
    expect(lines[1]).toBe('1 passed, 0 failed, 0 skipped');
  });

  it('a manifest that cannot be loaded is one failure; the others still run', async () => {
    const dir = await fixture();
    const good = await write(dir, 'm.json', decryptManifest(3, { good: { ciphertext: 'file://ct', 'master-keys': [rawAes], result: ok } }));
    const cli = await run(['test-vectors', path.join(dir, 'absent.json'), good]);
    expect(cli.code).toBe(1);
    const lines = cli.stdout.toString().trim().split('\n');
    expect(lines[0]).toMatch(/^FAIL absent\.json\/\(manifest\): .*absent\.json: cannot read \(ENOENT\)$/);
    expect(lines.at(-1)).toBe('1 passed, 1 failed, 0 skipped');
  });

  it('--help shows an example; no manifest is a usage error', async () => {
    const help = await run(['test-vectors', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/Examples:\n {2}npx envelope test-vectors/);
    const none = await run(['test-vectors']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^envelope: ENVELOPE_USAGE: give one or more decrypt manifest files/);
    const bad = await run(['test-vectors', '--concurrency', '0', 'x.json']);
    expect(bad.stderr).toMatch(/--concurrency expects an integer/);
  });

  it('summary line format', () => {
    expect(summaryLine({ passed: 231, failed: 0, skipped: 0 })).toBe('231 passed, 0 failed, 0 skipped');
    const reasons = skipReasonLines([
      { manifest: 'm', id: 'a', status: 'skipped', reason: 'b' },
      { manifest: 'm', id: 'b', status: 'skipped', reason: 'a' },
      { manifest: 'm', id: 'c', status: 'skipped', reason: 'b' },
      { manifest: 'm', id: 'd', status: 'passed' },
    ]);
    expect(reasons).toEqual(['skipped 2: b', 'skipped 1: a']);
  });
});
