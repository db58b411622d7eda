/**
 * The public decrypt vectors (../shared/vectors) through decryptStream with its frames opened on
 * a frame pool (issue 16): every suite, format v1 and v2, frame length 512 in batches of two frames,
 * non-framed bodies (opened on the main thread), and the must-fail variants. Every positive test
 * must give exactly the expected plaintext, every negative one a coded EnvelopeError.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FramePool, decryptStream, isEnvelopeError } from '@envelope/core';
import { COMMITMENT_POLICY, buildMaterialsManager, loadDecryptManifest, skipReason } from '../packages/cli/src/test-vectors/index.js';

const vectors = path.resolve(fileURLToPath(new URL('..', import.meta.url)), '../shared/vectors');
const SETS = ['net-v4-4.0.1', 'python-nonframed', 'negative-a'];
const pool = new FramePool({ workers: 2 });
afterAll(() => pool.close());

async function parallelDecrypt(
  ct: Buffer,
  mm: ReturnType<typeof buildMaterialsManager>,
  ec: Record<string, string> | undefined,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  const chunks: Buffer[] = [];
  for (let i = 0; i < ct.length; i += 777) chunks.push(ct.subarray(i, i + 777));
  await pipeline(
    Readable.from(chunks),
    decryptStream({
      materialsManager: mm,
      commitmentPolicy: COMMITMENT_POLICY,
      ...(ec ? { encryptionContext: ec } : {}),
      parallel: { pool, batchBytes: 1024 },
    }),
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('conformance vectors through the parallel stream', () => {
  for (const set of SETS) {
    it(`${set}: every runnable test`, async () => {
      const file = path.join(vectors, set, 'manifest.json');
      if (!existsSync(file)) throw new Error(`conformance vectors not found at ${file} (../shared/vectors beside the repository)`);
      const m = await loadDecryptManifest(file);
      let ran = 0;
      for (const t of m.tests) {
        if (skipReason(t.keyring) !== undefined) continue; // RSA PKCS#1 v1.5 without the revert flag
        const mm = buildMaterialsManager(t.keyring, m.keys);
        const ct = await readFile(t.ciphertext);
        const ec = t.encryptionContext ? { ...t.encryptionContext } : undefined;
        const got = await parallelDecrypt(ct, mm, ec).then(
          (p) => ({ ok: true as const, p }),
          (e: unknown) => ({ ok: false as const, e }),
        );
        if ('plaintext' in t.expect) {
          if (!got.ok) throw new Error(`${t.id}: ${String(got.e)}`);
          expect(got.p.equals(await readFile(t.expect.plaintext)), t.id).toBe(true);
        } else {
          expect(got.ok, t.id).toBe(false);
          if (!got.ok) expect(isEnvelopeError(got.e), `${t.id}: ${String(got.e)}`).toBe(true);
        }
        ran++;
      }
      expect(ran).toBeGreaterThan(0);
    });
  }
});
