/**
 * Runs decrypt manifests: loads each (with its keys manifest), then runs every test with bounded
 * concurrency and returns one result per test, in manifest order.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadDecryptManifest, type DecryptManifest, type DecryptTest } from './decrypt-manifest.js';
import { judge } from './judge.js';
import { buildMaterialsManager, failReason, skipReason } from './keyrings.js';
import type { Keys } from './keys-manifest.js';

export type TestStatus = 'passed' | 'failed' | 'skipped';

/** The outcome of one test. `reason` says why it failed or was skipped. */
export interface TestResult {
  /** Absolute path of the decrypt manifest. */
  readonly manifest: string;
  /** The test id; `(manifest)` when the manifest itself could not be loaded. */
  readonly id: string;
  readonly status: TestStatus;
  readonly reason?: string | undefined;
}

export interface ManifestSummary {
  readonly file: string;
  /** The awses-decrypt version, or undefined when the manifest could not be loaded. */
  readonly version?: number | undefined;
  readonly tests: number;
}

export interface RunReport {
  readonly manifests: readonly ManifestSummary[];
  readonly results: readonly TestResult[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface RunOptions {
  /** Tests in flight at once. Default 4. */
  concurrency?: number | undefined;
  /** A test still running after this long fails. Default 60 000 ms. */
  timeoutMs?: number | undefined;
  /** Called as each test finishes (in completion order). */
  onResult?: ((r: TestResult) => void) | undefined;
}

/** Label of the manifest in output lines: its folder name for `…/manifest.json`, else its file name. */
export function manifestLabel(file: string): string {
  return path.basename(file) === 'manifest.json' ? path.basename(path.dirname(file)) : path.basename(file);
}

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new Error(`cannot read the ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

/** Runs one test; never throws (a harness problem is a failed result with its reason). */
export async function runTest(manifest: string, t: DecryptTest, keys: Keys): Promise<TestResult> {
  const base = { manifest, id: t.id };
  const wrong = failReason(t.keyring);
  if (wrong !== undefined) return { ...base, status: 'failed', reason: wrong };
  const skip = skipReason(t.keyring);
  if (skip !== undefined) return { ...base, status: 'skipped', reason: skip };
  try {
    const mm = buildMaterialsManager(t.keyring, keys);
    const ct = await readInput(t.ciphertext, 'ciphertext');
    const want = 'plaintext' in t.expect ? await readInput(t.expect.plaintext, 'plaintext') : undefined;
    return { ...base, ...(await judge(t, mm, ct, want)) };
  } catch (e) {
    return { ...base, status: 'failed', reason: `harness: ${(e as Error).message}` };
  }
}

function withTimeout(p: Promise<TestResult>, ms: number, base: { manifest: string; id: string }): Promise<TestResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<TestResult>((resolve) => {
    timer = setTimeout(() => resolve({ ...base, status: 'failed', reason: `timed out after ${ms} ms` }), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs every test of every manifest. A manifest that cannot be loaded (missing, invalid JSON, bad
 * shape) counts as one failed result with id `(manifest)` and the error, and the others still run.
 *
 * @example
 * ```ts
 * const report = await runManifests(['../shared/vectors/net-v4-4.0.1/manifest.json']);
 * console.log(summaryLine(report)); // "99 passed, 0 failed, 0 skipped"
 * ```
 */
export async function runManifests(files: readonly string[], o: RunOptions = {}): Promise<RunReport> {
  const concurrency = o.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency: expected a positive integer');
  const timeoutMs = o.timeoutMs ?? 60_000;
  const slots: (TestResult | undefined)[] = [];
  const jobs: { slot: number; manifest: DecryptManifest; test: DecryptTest; keys: Keys }[] = [];
  const manifests: ManifestSummary[] = [];
  for (const f of files) {
    const file = path.resolve(f);
    let m: DecryptManifest;
    try {
      m = await loadDecryptManifest(file);
    } catch (e) {
      const r: TestResult = { manifest: file, id: '(manifest)', status: 'failed', reason: (e as Error).message };
      slots.push(r);
      o.onResult?.(r);
      manifests.push({ file, tests: 0 });
      continue;
    }
    manifests.push({ file, version: m.version, tests: m.tests.length });
    for (const test of m.tests) jobs.push({ slot: slots.push(undefined) - 1, manifest: m, test, keys: m.keys });
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const base = { manifest: j.manifest.file, id: j.test.id };
      const r = await withTimeout(runTest(j.manifest.file, j.test, j.keys), timeoutMs, base);
      slots[j.slot] = r;
      o.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(jobs.length, 1)) }, worker));
  const results = slots as TestResult[];
  const count = (s: TestStatus) => results.filter((r) => r.status === s).length;
  return { manifests, results, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}
