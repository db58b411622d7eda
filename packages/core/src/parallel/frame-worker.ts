/**
 * A frame worker: seals and opens batches of frames for the main thread with the same frame codec
 * as everything else (format/frame.ts). It holds one copy of each live message's derived key,
 * received by transfer and wiped on `end`; a batch that fails to open returns a wiped output, so
 * no unauthenticated plaintext ever leaves the worker.
 */
import { parentPort } from 'node:worker_threads';
import { getSuite, type AlgorithmSuite } from '../suites.js';
import { FrameDecrypter, FrameEncrypter } from '../format/frame.js';
import { isEnvelopeError } from '../errors.js';
import type { FromWorker, OpenMessage, SealMessage, ToWorker } from './protocol.js';

interface Session {
  readonly suite: AlgorithmSuite;
  readonly key: Buffer;
  readonly messageId: Uint8Array;
  readonly frameLength: number;
  readonly encrypter: FrameEncrypter;
}

const sessions = new Map<number, Session>();
const port = parentPort;
if (!port) throw new Error('frame-worker: not a worker thread');

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'begin': {
      const suite = getSuite(m.suiteId);
      const key = Buffer.from(m.key);
      sessions.set(m.session, {
        suite,
        key,
        messageId: m.messageId,
        frameLength: m.frameLength,
        encrypter: new FrameEncrypter(suite, key, m.messageId),
      });
      return;
    }
    case 'end': {
      sessions.get(m.session)?.key.fill(0);
      sessions.delete(m.session);
      return;
    }
    case 'close':
      return close();
    case 'seal':
    case 'open':
      reply(m);
      return;
  }
});

/** The pool closes: every key still held is wiped, then this thread ends (not the process). */
function close(): never {
  for (const s of sessions.values()) s.key.fill(0);
  sessions.clear();
  process.exit(0);
}

function reply(m: SealMessage | OpenMessage): void {
  const s = sessions.get(m.session);
  let r: FromWorker;
  try {
    if (!s) throw new Error('no such session');
    const [outputLength, final] = m.t === 'seal' ? seal(s, m) : open(s, m);
    r = { job: m.job, ok: true, input: m.input, output: m.output, outputLength, final };
  } catch (e) {
    // Nothing of a failed batch goes back: a frame that did not authenticate may have left
    // plaintext in the output, and the frames before it are withheld with it.
    new Uint8Array(m.output).fill(0);
    r = {
      job: m.job,
      ok: false,
      code: isEnvelopeError(e) ? e.code : 'ENVELOPE_INTERNAL',
      message: e instanceof Error ? e.message : String(e),
      input: m.input,
      output: m.output,
    };
  }
  port!.postMessage(r, [r.input, r.output]);
}

function seal(s: Session, m: SealMessage): [number, boolean] {
  const input = new Uint8Array(m.input, 0, m.inputLength);
  const out = new Uint8Array(m.output);
  const fl = s.frameLength;
  const frames = Math.max(1, Math.ceil(m.inputLength / fl));
  let off = 0;
  for (let i = 0; i < frames; i++) {
    const final = m.final && i === frames - 1;
    off = s.encrypter.writeFrame(out, off, m.seq + i, final, input.subarray(i * fl, Math.min((i + 1) * fl, m.inputLength)));
  }
  return [off, m.final];
}

function open(s: Session, m: OpenMessage): [number, boolean] {
  const input = new Uint8Array(m.input, 0, m.inputLength);
  const out = new Uint8Array(m.output);
  // A decrypter for this batch only: it shares the session's key (and must not wipe it) and
  // expects the batch's first sequence number. Each frame's plaintext goes straight into the
  // output (the decipher's own copy is wiped by decryptAt).
  const d = new FrameDecrypter(s.suite, s.key, s.messageId, s.frameLength, 0, m.seq);
  let off = 0;
  let w = 0;
  let final = false;
  while (off < m.inputLength) {
    const f = d.decryptAt(input, off, out, w);
    w += f.plaintext.byteLength;
    off += f.consumed;
    final = f.final;
  }
  return [w, final];
}
