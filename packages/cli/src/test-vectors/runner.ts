/** Runs decrypt manifests: each test decrypted (buffer and streaming APIs) and judged. */
import { readFile } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnvelopeError, decrypt, decryptStream, type MaterialsManager } from '@envelope/core';
import { SkipTest, buildMaterialsManager } from './keyrings.js';
import { loadDecryptManifest, type DecryptTest } from './manifest.js';

export interface TestResult {
  readonly manifest: string;
  readonly id: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly reason?: string;
}

export interface RunReport {
  readonly results: TestResult[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface RunOptions {
  /** Tests in flight at once. Default 4. */
  concurrency?: number;
  onResult?: (r: TestResult) => void;
}

const POLICY = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' as const;

async function decryptBoth(ct: Buffer, mm: MaterialsManager, ec: Record<string, string> | undefined): Promise<Buffer> {
  const a = Buffer.from((await decrypt(ct, { materialsManager: mm, encryptionContext: ec, commitmentPolicy: POLICY })).plaintext);
  const parts: Buffer[] = [];
  const chunks: Buffer[] = [];
  for (let i = 0; i < ct.length; i += 777) chunks.push(ct.subarray(i, i + 777));
  await pipeline(
    Readable.from(chunks),
    decryptStream({ materialsManager: mm, encryptionContext: ec, commitmentPolicy: POLICY }),
    new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } }),
  );
  const b = Buffer.concat(parts);
  if (!a.equals(b)) throw new Error('buffer and streaming decrypt disagree');
  return a;
}

async function runOne(manifest: string, t: DecryptTest, keys: Parameters<typeof buildMaterialsManager>[1]): Promise<TestResult> {
  const base = { manifest, id: t.id };
  let mm: MaterialsManager;
  try {
    mm = buildMaterialsManager(t.keyring, keys);
  } catch (e) {
    if (e instanceof SkipTest) return { ...base, status: 'skipped', reason: e.message };
    return { ...base, status: 'failed', reason: `cannot build the keyring: ${(e as Error).message}` };
  }
  const ct = await readFile(t.ciphertext);
  if ('plaintext' in t.expect) {
    const want = await readFile(t.expect.plaintext);
    try {
      const got = await decryptBoth(ct, mm, t.reproducedEncryptionContext);
      return got.equals(want) ? { ...base, status: 'passed' } : { ...base, status: 'failed', reason: 'plaintext differs' };
    } catch (e) {
      if (e instanceof EnvelopeError && e.code === 'ENVELOPE_UNSUPPORTED' && /PKCS#1/.test(e.message)) return { ...base, status: 'skipped', reason: e.message };
      return { ...base, status: 'failed', reason: e instanceof EnvelopeError ? `${e.code}: ${e.message}` : `crash: ${String(e)}` };
    }
  }
  // Must fail, and only with one of our coded errors (anything else is a crash).
  for (const attempt of [
    () => decrypt(ct, { materialsManager: mm, encryptionContext: t.reproducedEncryptionContext, commitmentPolicy: POLICY }),
    () => pipeline(Readable.from([ct]), decryptStream({ materialsManager: mm, encryptionContext: t.reproducedEncryptionContext, commitmentPolicy: POLICY }), new Writable({ write(_c, _e, cb) { cb(); } })),
  ]) {
    try {
      await attempt();
      return { ...base, status: 'failed', reason: `decrypted, but must fail (${t.expect.error})` };
    } catch (e) {
      if (!(e instanceof EnvelopeError)) return { ...base, status: 'failed', reason: `crash instead of a coded error: ${String(e)}` };
    }
  }
  return { ...base, status: 'passed' };
}

/** Runs every test of every manifest. */
export async function runManifests(files: readonly string[], o: RunOptions = {}): Promise<RunReport> {
  const results: TestResult[] = [];
  for (const file of files) {
    const m = await loadDecryptManifest(file);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < m.tests.length) {
        const t = m.tests[next++]!;
        let r: TestResult;
        try {
          r = await runOne(file, t, m.keys);
        } catch (e) {
          r = { manifest: file, id: t.id, status: 'failed', reason: `harness error: ${(e as Error).message}` };
        }
        results.push(r);
        o.onResult?.(r);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  }
  const count = (s: TestResult['status']) => results.filter((r) => r.status === s).length;
  return { results, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

/** The last line the CLI prints (DESIGN.md): `N passed, N failed, N skipped`. */
export function summaryLine(r: RunReport): string {
  return `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
}
