/**
 * Conformance with the public AWS Encryption SDK decrypt vectors in ../shared/vectors (raw AES,
 * raw RSA, multi-keyring, required-encryption-context CMM, non-framed, and must-fail variants).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pkcs1DecryptAvailable } from '@envelope/keyring-local';
import { runManifests, summaryLine } from '../packages/cli/src/test-vectors/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const vectors = path.resolve(repo, '../shared/vectors');
const sets = ['net-v4-4.0.1', 'python-nonframed', 'negative-a'].map((s) => path.join(vectors, s, 'manifest.json'));

describe('conformance vectors', () => {
  it('the vectors are present beside the repository', () => {
    for (const s of sets) expect(existsSync(s), `missing ${s}: CI clones the repository with ../shared beside it`).toBe(true);
  });

  for (const set of sets) {
    it(`${path.basename(path.dirname(set))}: every test passes (PKCS#1 v1.5 skipped in-process unless the flag is set)`, async () => {
      const r = await runManifests([set]);
      const failed = r.results.filter((x) => x.status === 'failed');
      expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
      for (const s of r.results.filter((x) => x.status === 'skipped')) {
        // The only acceptable skip in these sets: Node 20 refusing PKCS#1 v1.5 without the flag.
        expect(pkcs1DecryptAvailable()).toBe(false);
        expect(s.reason).toMatch(/security-revert=CVE-2023-46809/);
      }
      if (r.skipped) console.warn(`${path.basename(path.dirname(set))}: ${r.skipped} PKCS#1 v1.5 tests skipped in this process (no --security-revert flag); the CLI test below runs them`);
      expect(r.passed).toBeGreaterThan(0);
      console.log(`${path.basename(path.dirname(set))}: ${summaryLine(r)}`);
    }, 120_000);
  }

  const bin = path.join(repo, 'packages/cli/bin/envelope.js');
  const built = existsSync(path.join(repo, 'packages/cli/dist/main.js'));
  it.skipIf(!built)('the CLI (which adds --security-revert for PKCS#1) passes all of them: last line "N passed, 0 failed, 0 skipped" (needs dist: npm test builds first)', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, [bin, 'test-vectors', ...sets], { timeout: 120_000 }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout })),
    );
    const last = out.stdout.trim().split('\n').at(-1)!;
    console.log(`envelope test-vectors: ${last}`);
    expect(last).toMatch(/^(\d+) passed, 0 failed, 0 skipped$/);
    expect(Number(last.split(' ')[0])).toBe(231);
    expect(out.code).toBe(0);
  }, 150_000);
});
