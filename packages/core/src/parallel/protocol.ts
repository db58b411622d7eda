/**
 * Messages between the main thread and a frame worker. Every buffer travels by transfer (moved,
 * never copied), so the only copies of a derived key are the session's and one per worker, and a
 * batch's bytes are never duplicated by the channel.
 */

/** Starts a message on a worker: its derived key (transferred; the worker wipes it on `end`). */
export interface BeginMessage {
  readonly t: 'begin';
  readonly session: number;
  readonly suiteId: number;
  readonly messageId: Uint8Array;
  /** 0 for a non-framed body (never sent to workers: a single piece has nothing to share). */
  readonly frameLength: number;
  readonly key: ArrayBuffer;
}

/**
 * Seals `frames` consecutive frames from `seq` on: the plaintext is `input[0, inputLength)`, the
 * frames are written to `output` from 0. With `final`, the last frame of the batch is the final frame.
 */
export interface SealMessage {
  readonly t: 'seal';
  readonly session: number;
  readonly job: number;
  readonly seq: number;
  readonly final: boolean;
  readonly input: ArrayBuffer;
  readonly inputLength: number;
  readonly output: ArrayBuffer;
}

/**
 * Opens the whole frames in `input[0, inputLength)`, the first of which must carry `seq`; the
 * plaintext is written to `output` from 0. On any failure nothing of the batch is returned.
 */
export interface OpenMessage {
  readonly t: 'open';
  readonly session: number;
  readonly job: number;
  readonly seq: number;
  readonly input: ArrayBuffer;
  readonly inputLength: number;
  readonly output: ArrayBuffer;
}

/** Ends a message on a worker: the worker wipes its copy of the key. */
export interface EndMessage {
  readonly t: 'end';
  readonly session: number;
}

/** The pool closes: the worker wipes every key it holds and exits. */
export interface CloseMessage {
  readonly t: 'close';
}

export type ToWorker = BeginMessage | SealMessage | OpenMessage | EndMessage | CloseMessage;

/** A finished batch: both buffers come back (transferred) for reuse; `outputLength` bytes were written. */
export interface JobDone {
  readonly job: number;
  readonly ok: true;
  readonly input: ArrayBuffer;
  readonly output: ArrayBuffer;
  readonly outputLength: number;
  /** Open: true when the batch ended with the final frame. */
  readonly final: boolean;
}

/** A failed batch: the output was wiped before it came back. `code` is an EnvelopeError code. */
export interface JobFailed {
  readonly job: number;
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  readonly input: ArrayBuffer;
  readonly output: ArrayBuffer;
}

export type FromWorker = JobDone | JobFailed;
