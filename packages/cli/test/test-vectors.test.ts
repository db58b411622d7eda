import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvelopeError, encrypt, type MaterialsManager } from '@envelope/core';
import { NEEDS_KMS, judge, loadDecryptManifest, runManifests, skipReasonLines, summaryLine } from '../src/test-vectors/index.js';
import { run } from './helpers.js';
import { aes, decoy, decryptManifest, fixture, mustFail, ok, rawAes, rawRsa, write } from './test-vectors-fixture.js';

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
