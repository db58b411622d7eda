import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FramePool } from '../src/parallel/frame-pool.js';
import { FrameBatches } from '../src/parallel/frame-batches.js';
import { FrameDecrypter, FrameEncrypter } from '../src/format/frame.js';
import { getSuite } from '../src/suites.js';
import { isEnvelopeError } from '../src/errors.js';

// The workers run the compiled worker (dist/parallel/frame-worker.js): `npm test` builds first.
const pool = new FramePool({ workers: 2 });
afterAll(() => pool.close());

const FL = 1024;
const frameSize = (suiteId: number): number => 4 + getSuite(suiteId).ivLength + getSuite(suiteId).tagLength + FL;

/** The same frames sealed on the main thread by the codec everything else uses. */
function sealHere(suiteId: number, key: Buffer, messageId: Buffer, pt: Buffer, firstSeq: number, final: boolean): Buffer {
  const e = new FrameEncrypter(getSuite(suiteId), Buffer.from(key), messageId);
  const frames = Math.max(1, Math.ceil(pt.byteLength / FL));
  const out = Buffer.alloc(frames * frameSize(suiteId) + 8);
  let o = 0;
  for (let i = 0; i < frames; i++) o = e.writeFrame(out, o, firstSeq + i, final && i === frames - 1, pt.subarray(i * FL, (i + 1) * FL));
  return out.subarray(0, o);
}

describe('frame pool', () => {
  for (const suiteId of [0x0478, 0x0578, 0x0178]) {
    it(`seals batches byte for byte as the main thread does, and opens them (suite 0x${suiteId.toString(16)})`, async () => {
      const suite = getSuite(suiteId);
      const key = randomBytes(suite.keyLength);
      const messageId = randomBytes(suite.messageFormat === 2 ? 32 : 16);
      const pt = randomBytes(10 * FL + 300);
      const b = new FrameBatches(pool, suite, key, messageId, FL);
      try {
        // Four batches of three frames, the last holding the final frame (300 bytes).
        const sealed: Buffer[] = [];
        for (let f = 0, seq = 1; f < 11; f += 3, seq += 3) {
          const part = pt.subarray(f * FL, Math.min((f + 3) * FL, pt.byteLength));
          const input = b.takeInput(3 * FL);
          input.set(part);
          const final = f + 3 >= 11;
          const r = await b.seal(input, part.byteLength, seq, final, 3 * frameSize(suiteId) + 8);
          expect(r.frames.equals(sealHere(suiteId, key, messageId, part, seq, final))).toBe(true);
          sealed.push(r.frames);
        }
        // Opened in two batches on the pool...
        const body = Buffer.concat(sealed);
        const cut = 6 * frameSize(suiteId);
        const first = b.takeInput(cut);
        first.set(body.subarray(0, cut));
        const o1 = await b.open(first, cut, 1, 6 * FL);
        const second = b.takeInput(body.byteLength - cut);
        second.set(body.subarray(cut));
        const o2 = await b.open(second, body.byteLength - cut, 7, 5 * FL);
        expect(o1.final).toBe(false);
        expect(o2.final).toBe(true);
        expect(Buffer.concat([o1.plaintext, o2.plaintext]).equals(pt)).toBe(true);
        // ...and by the main thread's decrypter from the start.
        const d = new FrameDecrypter(suite, Buffer.from(key), messageId, FL, 0);
        let off = 0;
        const parts: Uint8Array[] = [];
        while (!d.done) {
          const f = d.decryptAt(body, off);
          parts.push(f.plaintext);
          off += f.consumed;
        }
        expect(Buffer.concat(parts).equals(pt)).toBe(true);
      } finally {
        b.end();
      }
    });
  }

  it('a batch with one tampered frame releases nothing of the batch', async () => {
    const suite = getSuite(0x0478);
    const key = randomBytes(32);
    const messageId = randomBytes(32);
    const pt = randomBytes(4 * FL);
    const body = sealHere(0x0478, key, messageId, pt, 1, true);
    body[frameSize(0x0478) * 2 + 40]! ^= 1; // inside the third frame's ciphertext
    const b = new FrameBatches(pool, suite, key, messageId, FL);
    try {
      const input = b.takeInput(body.byteLength);
      input.set(body);
      const err = await b.open(input, body.byteLength, 1, 4 * FL).catch((e: unknown) => e);
      expect(isEnvelopeError(err, 'ENVELOPE_AUTHENTICATION_FAILED')).toBe(true);
    } finally {
      b.end();
    }
  });

  it('refuses frames out of sequence, and a batch that goes on after the final frame', async () => {
    const suite = getSuite(0x0478);
    const key = randomBytes(32);
    const messageId = randomBytes(32);
    const body = sealHere(0x0478, key, messageId, randomBytes(2 * FL), 1, true);
    const b = new FrameBatches(pool, suite, key, messageId, FL);
    try {
      const input = b.takeInput(body.byteLength);
      input.set(body);
      const err = await b.open(input, body.byteLength, 2, 2 * FL).catch((e: unknown) => e);
      expect(isEnvelopeError(err, 'ENVELOPE_MALFORMED_MESSAGE')).toBe(true);
      const twice = Buffer.concat([body, body]);
      const again = b.takeInput(twice.byteLength);
      again.set(twice);
      expect(await b.open(again, twice.byteLength, 1, 4 * FL).catch((e: unknown) => e)).toBeInstanceOf(Error);
    } finally {
      b.end();
    }
  });

  it('after end(), the workers no longer hold the message key', async () => {
    const suite = getSuite(0x0478);
    const live = pool.liveSessions;
    const b = new FrameBatches(pool, suite, randomBytes(32), randomBytes(32), FL);
    expect(pool.liveSessions).toBe(live + 1);
    const input = b.takeInput(FL);
    await b.seal(input, FL, 1, true, frameSize(0x0478) + 8);
    b.end();
    b.end(); // idempotent
    expect(pool.liveSessions).toBe(live);
    // A batch of this message is refused here once it ended...
    const late = await b.seal(b.takeInput(FL), FL, 1, true, frameSize(0x0478) + 8).catch((e: unknown) => e);
    expect(isEnvelopeError(late, 'ENVELOPE_ABORTED')).toBe(true);
  });

  it('a session ended on the pool is gone from every worker (they wiped its key)', async () => {
    const session = pool.newSession();
    pool.broadcast(() => {
      const key = randomBytes(32);
      const copy = key.buffer.slice(key.byteOffset, key.byteOffset + 32);
      return {
        message: { t: 'begin', session, suiteId: 0x0478, messageId: randomBytes(32), frameLength: FL, key: copy },
        transfer: [copy],
      };
    });
    const seal = (job: number) => {
      const input = new ArrayBuffer(FL);
      const output = new ArrayBuffer(frameSize(0x0478) + 8);
      return {
        message: { t: 'seal' as const, session, job, seq: 1, final: true, input, inputLength: FL, output },
        transfer: [input, output],
      };
    };
    // Round robin: two batches reach both workers, which both hold the key...
    expect((await Promise.all([pool.run(seal), pool.run(seal)])).map((r) => r.ok)).toEqual([true, true]);
    pool.endSession(session);
    // ...and after the end, neither does.
    for (const r of await Promise.all([pool.run(seal), pool.run(seal)])) {
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(/no such session/);
    }
  });

  it('close(): a batch still out fails with ENVELOPE_ABORTED, the workers exit, the pool refuses more', async () => {
    const p = new FramePool({ workers: 1 });
    const b = new FrameBatches(p, getSuite(0x0478), randomBytes(32), randomBytes(32), FL);
    const input = b.takeInput(64 * FL);
    const out = b.seal(input, 64 * FL, 1, true, 64 * frameSize(0x0478) + 8).catch((e: unknown) => e);
    // A generous grace: the worker must exit by itself (wiping its keys), not be terminated.
    await p.close(60_000);
    expect(isEnvelopeError(await out, 'ENVELOPE_ABORTED')).toBe(true);
    expect(p.liveSessions).toBe(0);
    await p.close(); // idempotent
    expect(() => new FrameBatches(p, getSuite(0x0478), randomBytes(32), randomBytes(32), FL)).toThrow(/frame pool closed/);
  });

  it('an idle pool does not keep the process alive', () => {
    const here = fileURLToPath(new URL('../dist/parallel/frame-pool.js', import.meta.url));
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { FramePool } = await import(${JSON.stringify(here)}); new FramePool({ workers: 1 }).warm(); console.log('started');`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(out.trim()).toBe('started');
  });
});
