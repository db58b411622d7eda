/**
 * The CI-sized coverage-guided fuzz run: scripts/fuzz-coverage.mjs (npm run fuzz:coverage) over the
 * built core, on a fixed seed and a fixed number of inputs. No input may end in anything but a coded EnvelopeError or a
 * successful decrypt (buffer and stream agreeing), none may hang, and the coverage guide must have
 * found inputs reaching blocks the seed messages do not reach.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/fuzz-coverage.mjs', import.meta.url));
const coreDist = fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url));

interface Report {
  seed: number;
  tried: number;
  seeds: number;
  corpus: number;
  blocksAtSeeds: number;
  blocks: number;
  featuresAtSeeds: number;
  features: number;
  crashes: number;
  hangs: number;
  crashSamples: unknown[];
  hangSamples: unknown[];
  peakRssMiB: number;
  timeline: { s: number; blocks: number }[];
}

describe('coverage-guided fuzzing (CI-sized)', () => {
  it('no crash, no hang, and coverage grows past the seeds', async () => {
    if (!existsSync(coreDist)) throw new Error(`${coreDist} is missing: build first (npx tsc -b; npm test does it before vitest)`);
    const crashDir = await mkdtemp(path.join(tmpdir(), 'fuzz-coverage-'));
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [script, '--runs', '400', '--seed', '20261127', '--timeout-ms', '10000', '--json', '--crash-dir', crashDir],
          { timeout: 120_000 },
          (err, stdout, stderr) => (err && !stdout ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
      const r = JSON.parse(out.trim().split('\n').at(-1)!) as Report;
      console.log(
        `fuzz-coverage: ${r.tried} inputs, corpus ${r.seeds} → ${r.corpus}, blocks ${r.blocksAtSeeds} → ${r.blocks}, ` +
          `${r.crashes} crashes, ${r.hangs} hangs, peak RSS ${r.peakRssMiB} MiB (seed ${r.seed})`,
      );
      expect(r.crashSamples).toEqual([]);
      expect(r.hangSamples).toEqual([]);
      expect(r.crashes).toBe(0);
      expect(r.hangs).toBe(0);
      expect(await readdir(crashDir)).toEqual([]);
      expect(r.seeds).toBeGreaterThanOrEqual(40); // every suite, framed and non-framed
      expect(r.tried).toBe(r.seeds + 400);
      // The guide works: mutated inputs reached blocks no seed reaches, and were kept.
      expect(r.blocks).toBeGreaterThan(r.blocksAtSeeds);
      expect(r.features).toBeGreaterThan(r.featuresAtSeeds);
      expect(r.corpus).toBeGreaterThan(r.seeds);
      expect(r.timeline.at(-1)!.blocks).toBe(r.blocks);
    } finally {
      await rm(crashDir, { recursive: true, force: true });
    }
  }, 150_000);
});
