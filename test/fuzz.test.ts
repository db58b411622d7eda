/**
 * The CI-sized fuzz run: the same campaign as `npm run fuzz` (scripts/fuzz.mjs), on a fixed seed
 * and a fixed number of inputs (random seeds belong to the campaign script). Every input must end in a coded EnvelopeError or a successful decrypt; no crash, no hang.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/fuzz.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../packages/keyring-local/dist/index.js', import.meta.url)));

describe('fuzz (CI-sized)', () => {
  it('decrypt survives random, mutated and hostile inputs (needs dist: npm test builds first)', async () => {
    expect(built, 'packages/*/dist is missing: run `npx tsc -b` (npm test builds first)').toBe(true);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [script, '--runs', '1500', '--seed', '20261127', '--json'], { timeout: 120_000 }, (err, stdout, stderr) =>
        err && !stdout ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const report = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(
      `fuzz: ${report.tried} inputs, ${report.decryptsRejected} coded rejections, ${report.crashes} crashes (seed ${report.seed})`,
    );
    expect(report.crashSamples).toEqual([]);
    expect(report.crashes).toBe(0);
    expect(report.tried).toBe(1500);
    expect(report.decryptsRejected).toBeGreaterThan(report.tried);
  }, 150_000);
});
