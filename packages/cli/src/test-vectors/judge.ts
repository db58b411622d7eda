/**
 * Judges one test: decrypts its ciphertext with every API that applies and compares the outcome
 * with the expectation.
 *
 * - Positive: every API must return exactly the expected plaintext (and, where the manifest names
 *   it, the expected algorithm suite).
 * - Negative: every API must fail with one of our coded `EnvelopeError`s. Anything else thrown (a
 *   TypeError, a RangeError from a bad length) is a crash, i.e. a bug of ours: a failure.
 *
 * APIs: the one-shot `decrypt` and `decryptStream` fed in 777-byte chunks (so headers, frames and
 * footers straddle chunk boundaries). `decryption-method: streaming-unsigned-only` means only the
 * streaming API, refusing signed suites before any plaintext, as the SDKs' unsigned-only stream
 * APIs do; core has no such API, so that refusal is made here, from the suite id in the header.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  EnvelopeError,
  decrypt,
  decryptStream,
  formatSuiteId,
  getSuite,
  isEnvelopeError,
  type DecryptOptions,
  type MaterialsManager,
} from '@envelope/core';
import type { DecryptTest } from './decrypt-manifest.js';

/** Every test may decrypt v1 (uncommitted) messages. */
export const COMMITMENT_POLICY = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' as const;
const CHUNK = 777;

export interface Verdict {
  readonly status: 'passed' | 'failed';
  readonly reason?: string | undefined;
}

interface Decrypted {
  readonly plaintext: Buffer;
  readonly suiteId?: number | undefined;
}

type Attempt = { readonly api: string; run(): Promise<Decrypted> };

function options(mm: MaterialsManager, ec: DecryptTest['encryptionContext']): DecryptOptions {
  return { materialsManager: mm, ...(ec ? { encryptionContext: { ...ec } } : {}), commitmentPolicy: COMMITMENT_POLICY };
}

async function streamed(ct: Uint8Array, mm: MaterialsManager, ec: DecryptTest['encryptionContext']): Promise<Decrypted> {
  const parts: Buffer[] = [];
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(ct.buffer, ct.byteOffset, ct.byteLength);
  for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));
  await pipeline(
    Readable.from(chunks),
    decryptStream(options(mm, ec)),
    new Writable({
      write(c: Buffer, _enc, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return { plaintext: Buffer.concat(parts) };
}

/** The suite id from the first bytes of a message (v1: byte 2–3, v2: byte 1–2). */
function headerSuiteId(ct: Uint8Array): number {
  const v = ct[0];
  const at = v === 1 ? 2 : v === 2 ? 1 : -1;
  if (at < 0 || ct.length < at + 2) throw new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', 'not an AWS Encryption SDK message');
  return (ct[at]! << 8) | ct[at + 1]!;
}

function attempts(t: Pick<DecryptTest, 'encryptionContext' | 'decryptionMethod'>, mm: MaterialsManager, ct: Uint8Array): Attempt[] {
  if (t.decryptionMethod === 'streaming-unsigned-only') {
    return [
      {
        api: 'unsigned-only stream',
        run: async () => {
          const suite = getSuite(headerSuiteId(ct));
          if (suite.signature)
            throw new EnvelopeError(
              'ENVELOPE_UNSUPPORTED',
              `signed suite ${formatSuiteId(suite.id)} given to the unsigned-only streaming method`,
            );
          return { ...(await streamed(ct, mm, t.encryptionContext)), suiteId: suite.id };
        },
      },
    ];
  }
  return [
    {
      api: 'decrypt',
      run: async () => {
        const r = await decrypt(ct, options(mm, t.encryptionContext));
        const p = r.plaintext;
        return { plaintext: Buffer.from(p.buffer, p.byteOffset, p.byteLength), suiteId: r.messageInfo.suiteId };
      },
    },
    { api: 'decryptStream', run: () => streamed(ct, mm, t.encryptionContext) },
  ];
}

function describeError(e: unknown): string {
  if (isEnvelopeError(e)) return `${e.code}: ${e.message}`;
  const err = e as Error | undefined;
  return `crash (not an EnvelopeError): ${err?.name ?? typeof e}: ${err?.message ?? String(e)}`;
}

/**
 * Runs the test's decrypt attempts against `mm` and returns the verdict. `want` is the expected
 * plaintext for a positive test (ignored for a negative one).
 */
export async function judge(
  t: Pick<DecryptTest, 'expect' | 'encryptionContext' | 'decryptionMethod' | 'suiteId'>,
  mm: MaterialsManager,
  ct: Uint8Array,
  want?: Uint8Array,
): Promise<Verdict> {
  const positive = 'plaintext' in t.expect;
  for (const a of attempts(t, mm, ct)) {
    let got: Decrypted;
    try {
      got = await a.run();
    } catch (e) {
      if (positive || !isEnvelopeError(e)) return { status: 'failed', reason: `${a.api}: ${describeError(e)}` };
      continue; // must fail, and did, with a coded error
    }
    if (!positive)
      return { status: 'failed', reason: `${a.api} decrypted it, but it must fail (${(t.expect as { error: string }).error})` };
    if (want === undefined || !got.plaintext.equals(want)) {
      return { status: 'failed', reason: `${a.api}: plaintext differs (${got.plaintext.length} bytes, expected ${want?.length ?? '?'})` };
    }
    if (t.suiteId !== undefined && got.suiteId !== undefined && got.suiteId !== t.suiteId) {
      return {
        status: 'failed',
        reason: `${a.api}: message uses suite ${formatSuiteId(got.suiteId)}, manifest says ${formatSuiteId(t.suiteId)}`,
      };
    }
  }
  return { status: 'passed' };
}
