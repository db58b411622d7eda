/**
 * Stdout for a command's bytes: large batches, backpressure from a slow reader, and the private
 * spool that holds a signed message's plaintext until its signature verifies (job.ts decides).
 */
import { Writable, finished } from 'node:stream';
import { WRITE_BATCH_BYTES } from './output.js';
import { Spool } from './spool.js';

/**
 * Stdout, written in large batches (or whatever is pending once the input pauses), never ended:
 * the command does not own it. At most one batch is out at a time: while the reader has not
 * taken it, the next chunk's callback waits, so a slow reader slows the command instead of
 * growing its memory. `spool()` makes it hold everything in a private spool until the stream
 * ends: for a signed message's plaintext.
 */
export class StdoutSink extends Writable {
  #spool: Spool | undefined;
  #parts: Buffer[] = [];
  #n = 0;
  #idle: NodeJS.Immediate | undefined;
  /** A batch handed to stdout whose callback has not come yet. */
  #writing = false;
  /** A chunk's callback withheld until that batch is taken (backpressure). */
  #held: ((e?: Error | null) => void) | undefined;
  /** Flushes waiting for that batch. */
  #after: (() => void)[] = [];

  constructor(private readonly out: NodeJS.WritableStream) {
    super({ highWaterMark: WRITE_BATCH_BYTES });
  }

  /** From now on (before any byte was written), hold everything until the end. */
  spool(): void {
    this.#spool = Spool.create(this.out);
  }

  override _write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.#spool) {
      this.#spool.write(chunk, (err) => cb(err));
      return;
    }
    this.#parts.push(chunk);
    this.#n += chunk.byteLength;
    if (this.#n >= WRITE_BATCH_BYTES) return this.#flush(cb);
    // Nothing more arrives in this turn of the event loop (the input paused): write what is here.
    this.#scheduleIdle();
    if (this.#writing) this.#held = cb;
    else cb();
  }

  #scheduleIdle(): void {
    this.#idle ??= setImmediate(() => {
      this.#idle = undefined;
      if (this.#writing) return; // the batch out reschedules once it is taken
      this.#flush((err) => {
        if (err) this.destroy(err);
      });
    });
  }

  /** Writes what is pending, after the batch out (if any) was taken; `cb` once this one is. */
  #flush(cb: (e?: Error | null) => void): void {
    if (this.#writing) {
      this.#after.push(() => this.#flush(cb));
      return;
    }
    if (this.#n === 0) return cb();
    const buf = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#n);
    this.#parts = [];
    this.#n = 0;
    this.#writing = true;
    // The callback comes once the reader took the batch, or the pipe broke (EPIPE).
    this.out.write(buf, (err) => {
      this.#writing = false;
      const held = this.#held;
      const after = this.#after;
      this.#held = undefined;
      this.#after = [];
      cb(err);
      held?.(err);
      for (const next of after) next();
      if (!err && this.#n > 0 && !this.#writing) this.#scheduleIdle();
    });
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (this.#idle) clearImmediate(this.#idle);
    this.#idle = undefined;
    if (this.#spool) {
      const spool = this.#spool;
      finished(spool, (err) => cb(err));
      spool.end();
      return;
    }
    this.#flush(cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.#idle) clearImmediate(this.#idle);
    this.#parts = [];
    this.#spool?.destroy();
    cb(err);
  }
}
