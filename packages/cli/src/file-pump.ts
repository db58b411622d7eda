/**
 * A regular file into a file output, without streams: the input is read synchronously into one
 * reused buffer, encrypted frames are sealed straight into the output's write batch
 * (`StreamEncryptor.updateInto`), decrypted frames copied into it, and the batch written with
 * one synchronous write when full (output.ts).
 *
 * Why (issue 16, target 4): on this VM the first touch of a page costs more than the copy into
 * it. The stream pipeline gave every read a new 256 KiB buffer and every encrypted chunk a new
 * output buffer, on top of the buffers `cipher.update()` returns; this path allocates only the
 * latter, as a plain Node program would. Same keyring, same messages, same checks: the core's
 * StreamEncryptor / StreamDecryptor do all the work, and the output is the same private
 * temporary, renamed into place only by the caller's commit.
 *
 * The event loop runs every YIELD_BYTES of input (signals are handled there: temp.ts removes the
 * temporary on SIGINT/SIGTERM), so a loop over a large file never holds it for long.
 */
import { fstatSync, openSync, readSync, constants } from 'node:fs';
import type { StreamDecryptor, StreamEncryptor } from '@envelope/core';
import type { BatchedFdWriter } from './output.js';

/** Bytes read per call into the reused buffer: 512 reads per 128 MiB. */
export const PUMP_READ_BYTES = 256 * 1024;
/** Input bytes between turns of the event loop (signals, progress output). */
const YIELD_BYTES = 4 * 1024 * 1024;

/** The event loop's next turn (timers, signals, I/O callbacks). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Opens `file` for reading (not through a symbolic link unless `follow`) and tells whether it is
 * a regular file (a FIFO or a device is read as a stream instead: a synchronous read would block).
 */
export function openInputFd(file: string, follow: boolean): { fd: number; regular: boolean } {
  const fd = openSync(file, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW));
  return { fd, regular: fstatSync(fd).isFile() };
}

/** Reads the input in turns; `each` gets every chunk (a view of the one reused buffer). */
async function readAll(fd: number, onBytes: ((n: number) => void) | undefined, each: (chunk: Buffer) => unknown): Promise<void> {
  const buf = Buffer.allocUnsafe(PUMP_READ_BYTES);
  let sinceTurn = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, PUMP_READ_BYTES, null);
    if (n === 0) return;
    onBytes?.(n);
    await each(buf.subarray(0, n));
    sinceTurn += n;
    if (sinceTurn >= YIELD_BYTES) {
      sinceTurn = 0;
      await nextTurn();
    }
  }
}

/**
 * Encrypts the open file `fd` into `out` with a started encryptor (its header already put): each
 * read's frames are sealed into the write batch. Ends the message (final frame, footer).
 */
export async function encryptFile(
  enc: StreamEncryptor,
  fd: number,
  out: BatchedFdWriter,
  onBytes: ((n: number) => void) | undefined,
): Promise<void> {
  await readAll(fd, onBytes, (chunk) => {
    const room = out.reserve(enc.outputLength(chunk.byteLength));
    if (room) out.filled(enc.updateInto(chunk, room.buf, room.offset) - room.offset);
    else out.put(enc.update(chunk)); // frames larger than a batch
  });
  out.put(enc.finish());
  out.flush();
}

/**
 * Decrypts the open file `fd` into `out`: each read's authenticated frames are copied into the
 * write batch as they come (unsigned messages; for a signed message `out` is the private
 * temporary, published only after the signature verified, as for the stream path). The decryptor
 * keeps no reference to a read once update() settles, so the buffer is read into again.
 */
export async function decryptFile(
  dec: StreamDecryptor,
  fd: number,
  out: BatchedFdWriter,
  onBytes: ((n: number) => void) | undefined,
): Promise<void> {
  await readAll(fd, onBytes, async (chunk) => {
    for (const p of await dec.update(chunk)) out.put(p);
  });
  for (const p of await dec.finish()) out.put(p);
  out.flush();
}
