/**
 * PKCS#1 v1.5 decryption needs `node --security-revert=CVE-2023-46809` on Node 20, a flag the
 * vitest workers cannot be started with. This test runs fixtures/pkcs1-roundtrip.mjs in a child
 * node with the flag, against the built package (dist/): `npm test` builds first; run `npx tsc -b`
 * before running this file alone. A missing dist/ fails the test saying so, rather than pass over
 * the only check of PKCS#1 v1.5 against the SDK.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/pkcs1-roundtrip.mjs', import.meta.url));

function distIsBuilt(): boolean {
  return readdirSync(`${pkg}/src`).every((f) => existsSync(`${pkg}/dist/${f.replace(/\.ts$/, '.js')}`));
}

describe('PKCS#1 v1.5 decryption under --security-revert=CVE-2023-46809 (child node process)', () => {
  const name =
    'round trips ours↔ours, ours→SDK, SDK→ours; a wrong key is a coded failure; 15.i4: bad padding and a wrong length fail alike';
  it(name, () => {
    expect(distIsBuilt(), 'keyring-local dist/ is missing: run `npx tsc -b` (npm test builds first)').toBe(true);
    const out = execFileSync(process.execPath, ['--security-revert=CVE-2023-46809', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // node prints its "SECURITY WARNING" on stdout first; the result is the last line.
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      available: true,
      oursToOurs: true,
      oursToSdk: true,
      sdkToOurs: true,
      wrongKey: 'ENVELOPE_NO_DECRYPTABLE_KEY',
      // 15.i4: bad padding and a wrong length give one and the same failure.
      pkcs1Failures: {
        code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
        message: 'raw RSA key ns/rsa could not unwrap any of its 1 encrypted data key(s): RSA decryption failed',
        causes: [{ key: 'ns/rsa', reason: 'RSA decryption failed' }],
        cause: true,
      },
    });
  });
});
