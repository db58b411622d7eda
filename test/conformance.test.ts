/**
 * Conformance with the public AWS Encryption SDK decrypt vectors in ../shared/vectors (beside the
 * repository; CI clones it that way): raw AES, raw RSA, multi-keyring with a public decoy,
 * required-encryption-context CMM, non-framed bodies, and must-fail variants. Run in-process (no
 * --security-revert flag under vitest, so PKCS#1 v1.5 tests may only be skipped, with the reason)
 * and through the built CLI in a child node started with --security-revert=CVE-2023-46809, where
 * nothing may be skipped.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { encrypt } from '@envelope/core';
import { RawRsaKeyring, pkcs1DecryptAvailable } from '@envelope/keyring-local';
import { PKCS1_SKIP_REASON, runManifests, summaryLine, type RunReport } from '../packages/cli/src/test-vectors/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const vectors = path.resolve(repoRoot, '../shared/vectors');
const SETS = ['net-v4-4.0.1', 'python-nonframed', 'negative-a'] as const;
const manifestOf = (set: string) => path.join(vectors, set, 'manifest.json');
const REVERT = '--security-revert=CVE-2023-46809';
const bin = path.join(repoRoot, 'packages/cli/bin/envelope.js');
const builtCli = path.join(repoRoot, 'packages/cli/dist/main.js');

function requireVectors(): void {
  const missing = SETS.map(manifestOf).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `conformance vectors not found: looked for ${missing.join(', ')} (expected ../shared/vectors beside the repository root ${repoRoot}; CI clones the repository with shared/ beside it)`,
    );
  }
}

function requireBuiltCli(): void {
  if (!existsSync(builtCli)) throw new Error(`${builtCli} is missing: build first (npx tsc -b; npm test does it before vitest)`);
}

/** The tests a manifest declares, and whether each expects an error, read independently of the runner. */
function declared(set: string): { id: string; negative: boolean; pkcs1: boolean }[] {
  const m = JSON.parse(readFileSync(manifestOf(set), 'utf8')) as {
    tests: Record<string, { result: { error?: unknown }; 'master-keys': { 'padding-algorithm'?: string }[] }>;
  };
  return Object.entries(m.tests).map(([id, t]) => ({
    id,
    negative: t.result.error !== undefined,
    pkcs1: t['master-keys'].some((k) => k['padding-algorithm'] === 'pkcs1'),
  }));
}

function runCli(args: string[], nodeFlags: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [...nodeFlags, bin, 'test-vectors', ...args],
      { timeout: 170_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';

describe('conformance: public decrypt vectors (../shared/vectors)', () => {
  it('the three vector sets are present beside the repository', () => {
    requireVectors();
  });

  for (const set of SETS) {
    it(`${set}: every test passes in-process (PKCS#1 v1.5 ones pass, or are skipped with the reason when Node refuses them)`, async () => {
      requireVectors();
      const r = await runManifests([manifestOf(set)]);
      const tests = declared(set);
      expect(r.results.map((x) => x.id)).toEqual(tests.map((t) => t.id));
      const failed = r.results.filter((x) => x.status === 'failed');
      expect(failed, JSON.stringify(failed.slice(0, 5), null, 2)).toEqual([]);
      for (const [i, x] of r.results.entries()) {
        if (x.status !== 'skipped') continue;
        expect(tests[i]!.pkcs1, `${x.id} skipped: ${x.reason}`).toBe(true);
        expect(pkcs1DecryptAvailable()).toBe(false);
        expect(x.reason).toBe(PKCS1_SKIP_REASON);
      }
      if (set === 'negative-a') {
        // Every one must fail to decrypt; "passed" means it did, with a coded EnvelopeError.
        expect(tests.every((t) => t.negative)).toBe(true);
        expect(r.passed).toBe(tests.length);
      } else {
        expect(tests.some((t) => t.negative)).toBe(false);
      }
      console.log(`${set}: ${summaryLine(r)}`);
    }, 120_000);
  }

  it(`the built CLI under node ${REVERT} runs all three sets: "N passed, 0 failed, 0 skipped", exit 0`, async () => {
    requireVectors();
    requireBuiltCli();
    const total = SETS.reduce((n, s) => n + declared(s).length, 0);
    const out = await runCli(SETS.map(manifestOf), [REVERT]);
    console.log(`envelope test-vectors (three sets): ${lastLine(out.stdout)}`);
    expect(out.stdout).not.toMatch(/^FAIL /m);
    expect(lastLine(out.stdout)).toBe(`${total} passed, 0 failed, 0 skipped`);
    expect(out.code).toBe(0);
  }, 180_000);
});

describe('conformance: RSA PKCS#1 v1.5 (no public set here has one, so we make our own)', () => {
  /** A v3 and a v5 manifest of PKCS#1 v1.5 messages made by our encrypt: two must decrypt, one must fail. */
  async function pkcs1Set(): Promise<string[]> {
    const dir = await mkdtemp(path.join(tmpdir(), 'tv-pkcs1-'));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const keyring = new RawRsaKeyring({ keyNamespace: 'pkcs1-ns', keyName: 'rsa-2048', publicKey: pub, padding: 'pkcs1' });
    const pt = randomBytes(1000);
    await writeFile(path.join(dir, 'pt'), pt);
    await writeFile(
      path.join(dir, 'ct-v1'),
      (await encrypt(pt, { keyring, suite: 0x0178, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })).ciphertext,
    );
    await writeFile(path.join(dir, 'ct-v2'), (await encrypt(pt, { keyring, suite: 0x0578 })).ciphertext);
    const bad = Buffer.from((await encrypt(pt, { keyring, suite: 0x0478 })).ciphertext);
    bad[bad.length - 1]! ^= 0x80;
    await writeFile(path.join(dir, 'ct-bad'), bad);
    await writeFile(
      path.join(dir, 'keys.json'),
      JSON.stringify({
        manifest: { type: 'keys', version: 3 },
        keys: {
          rsa: {
            'key-id': 'rsa-2048',
            type: 'private',
            algorithm: 'rsa',
            bits: 2048,
            encoding: 'pem',
            material: priv,
            encrypt: true,
            decrypt: true,
          },
        },
      }),
    );
    const mk = { type: 'raw', key: 'rsa', 'provider-id': 'pkcs1-ns', 'encryption-algorithm': 'rsa', 'padding-algorithm': 'pkcs1' };
    const v3 = path.join(dir, 'v3.json');
    await writeFile(
      v3,
      JSON.stringify({
        manifest: { type: 'awses-decrypt', version: 3 },
        keys: 'file://keys.json',
        tests: {
          v1: { ciphertext: 'file://ct-v1', 'master-keys': [mk], result: { output: { plaintext: 'file://pt' } } },
          bad: { ciphertext: 'file://ct-bad', 'master-keys': [mk], result: { error: { 'error-description': 'bit flipped in the body' } } },
        },
      }),
    );
    const v5 = path.join(dir, 'v5.json');
    await writeFile(
      v5,
      JSON.stringify({
        manifest: { type: 'awses-decrypt', version: 5 },
        keys: 'file://keys.json',
        tests: {
          v2: {
            'decryption-scenario': {
              type: 'positive-esdk',
              ciphertext: 'file://ct-v2',
              result: 'file://pt',
              algorithmSuiteId: '0578',
              description: 'pkcs1, signed',
              decryptKeyDescription: { ...mk, 'padding-hash': 'sha1' },
            },
          },
        },
      }),
    );
    return [v3, v5];
  }

  it('in-process: passed when this Node allows PKCS#1 v1.5, else every one skipped with the reason (never failed, never dropped)', async () => {
    const r: RunReport = await runManifests(await pkcs1Set());
    expect(r.results).toHaveLength(3);
    if (pkcs1DecryptAvailable()) expect(summaryLine(r)).toBe('3 passed, 0 failed, 0 skipped');
    else expect(r.results.map((x) => [x.status, x.reason])).toEqual(Array(3).fill(['skipped', PKCS1_SKIP_REASON]));
  });

  it(`the built CLI under node ${REVERT}: "3 passed, 0 failed, 0 skipped"`, async () => {
    requireBuiltCli();
    const out = await runCli(await pkcs1Set(), [REVERT]);
    expect(lastLine(out.stdout)).toBe('3 passed, 0 failed, 0 skipped');
    expect(out.code).toBe(0);
  }, 60_000);

  it('the envelope launcher adds the flag itself for test-vectors: "3 passed, 0 failed, 0 skipped" without it', async () => {
    requireBuiltCli();
    const out = await runCli(await pkcs1Set());
    expect(lastLine(out.stdout), out.stdout + out.stderr).toBe('3 passed, 0 failed, 0 skipped');
    expect(out.code).toBe(0);
  }, 60_000);
});
