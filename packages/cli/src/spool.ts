/**
 * The plaintext of a signed message, on its way to stdout, waits here until the signature
 * verifies: a private temporary in the temporary directory ($TMPDIR), created 0600 and exclusive,
 * and unlinked as soon as it is open. Nothing can open it by name, and whatever way the process
 * ends (an error, a signal, SIGKILL) the kernel frees it when the descriptor closes. Memory
 * stays bounded at any size. Once the whole message has verified, `final` copies it out.
 */
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { BatchedFdWriter, WRITE_BATCH_BYTES } from './output.js';
import { CliError } from './io.js';

/** A writable that holds everything until it ends, then writes it all to `out`. */
export class Spool extends BatchedFdWriter {
  #closed = false;

  private constructor(
    fd: number,
    private readonly out: NodeJS.WritableStream,
    dir: string,
  ) {
    super(fd, `the private spool in ${dir} (set TMPDIR, or use --out)`);
  }

  static create(out: NodeJS.WritableStream, dir = tmpdir()): Spool {
    const file = path.join(dir, `.envelope-spool-${process.pid}-${randomBytes(8).toString('hex')}`);
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      throw new CliError(
        'ENVELOPE_OUTPUT',
        `cannot create the private spool in ${dir} (${(e as NodeJS.ErrnoException).code}); set TMPDIR, or use --out`,
      );
    }
    unlinkSync(file);
    return new Spool(fd, out, dir);
  }

  override _final(cb: (e?: Error | null) => void): void {
    super._final((e) => {
      if (e) return cb(e);
      this.#copyOut().then(() => cb(), cb);
    });
  }

  async #copyOut(): Promise<void> {
    let pos = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
      const n = readSync(this.fd, buf, 0, buf.byteLength, pos);
      if (n === 0) break;
      pos += n;
      if (!this.out.write(n === buf.byteLength ? buf : buf.subarray(0, n))) await drainOrFail(this.out);
    }
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true;
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    super._destroy(err, cb);
  }
}

/** Waits for 'drain', or rejects if the stream fails first (a closed pipe). */
async function drainOrFail(out: NodeJS.WritableStream): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([
      once(out as NodeJS.EventEmitter, 'drain', { signal: ac.signal }),
      once(out as NodeJS.EventEmitter, 'error', { signal: ac.signal }).then(([e]) => {
        throw e;
      }),
    ]);
  } finally {
    ac.abort();
  }
}
