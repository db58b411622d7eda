/** Keys manifests and key descriptions, and 15.c1: keys read when a test uses them (the MPL keys manifest). */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encrypt } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';
import {
  NEEDS_KMS,
  PKCS1_SKIP_REASON,
  parseKeyDescription,
  parseKeysManifest,
  runManifests,
  skipReason,
  summaryLine,
} from '../src/test-vectors/index.js';
import { decoy, decryptManifest, fixture, keysJson, rawAes, rawRsa, write } from './test-vectors-fixture.js';

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
