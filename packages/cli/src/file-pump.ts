/**
 * A regular file in, without an input stream: the input is read synchronously into one reused
 * buffer. Into a file output, encrypted frames are sealed straight into the output's write batch
 * (`StreamEncryptor.updateInto`), decrypted frames copied into it, and the batch written with
 * one synchronous write when full (output.ts). To stdout, the frames are the source of a stream
 * into the stdout sink (its batching, backpressure and spool are unchanged).
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
export function openInputFd(file: string, follow: boolean): { fd: number; regular: boolean; size: number } {
  const fd = openSync(file, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW));
  const st = fstatSync(fd);
  return { fd, regular: st.isFile(), size: st.size };
}

/**
 * The input, read into one reused buffer: each chunk is a view of it, valid until the consumer
 * asks for the next one (a `for await` body is done with it by then).
 */
async function* reads(fd: number, onBytes: ((n: number) => void) | undefined): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(PUMP_READ_BYTES);
  let sinceTurn = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, PUMP_READ_BYTES, null);
      if (n === 0) return;
      onBytes?.(n);
      yield buf.subarray(0, n);
      sinceTurn += n;
      if (sinceTurn >= YIELD_BYTES) {
        sinceTurn = 0;
        await nextTurn();
      }
    }
  } finally {
    buf.fill(0); // it held plaintext, for an encrypt
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
  out.writeBackEarly();
  try {
    for await (const chunk of reads(fd, onBytes)) {
      const room = out.reserve(enc.outputLength(chunk.byteLength));
      if (room) out.filled(enc.updateInto(chunk, room.buf, room.offset) - room.offset);
      else out.put(enc.update(chunk)); // frames larger than a batch
    }
    out.put(enc.finish());
    out.flush();
  } finally {
    await out.settled();
  }
}

/**
 * Decrypts the open file `fd` into `out`: each read's authenticated frames are copied into the
 * write batch as they come (for a signed message `out` is the private temporary, published only
 * after the signature verified, as on the stream path). The decryptor keeps no reference to a
 * read once update() settles, so the buffer is read into again.
 */
export async function decryptFile(
  dec: StreamDecryptor,
  fd: number,
  out: BatchedFdWriter,
  onBytes: ((n: number) => void) | undefined,
): Promise<void> {
  // Each frame's plaintext is ours once copied into the batch: wiped, as the buffer decrypt
  // wipes the decipher's copy (15.12). A few ms per 128 MiB.
  const take = (parts: Uint8Array[]): void => {
    for (const p of parts) {
      out.put(p);
      p.fill(0);
    }
  };
  out.writeBackEarly();
  try {
    for await (const chunk of reads(fd, onBytes)) take(await dec.update(chunk));
    take(await dec.finish());
    out.flush();
  } finally {
    await out.settled();
  }
}

/**
 * The message's bytes after `header` (its frames, its footer) as a source for a stream to stdout:
 * fresh buffers, each the frames of one read.
 */
export async function* encryptedChunks(
  enc: StreamEncryptor,
  header: Uint8Array,
  fd: number,
  onBytes: ((n: number) => void) | undefined,
): AsyncGenerator<Uint8Array> {
  yield header;
  for await (const chunk of reads(fd, onBytes)) {
    const out = enc.update(chunk);
    if (out.byteLength) yield out;
  }
  yield enc.finish();
}

/**
 * The authenticated plaintext of the message in `fd` as a source for a stream to stdout, frame by
 * frame as the decryptor releases it; `onHeader` runs once the header has authenticated, before
 * any plaintext (to decide where a signed message's plaintext waits).
 */
export async function* decryptedChunks(
  dec: StreamDecryptor,
  fd: number,
  onBytes: ((n: number) => void) | undefined,
  onHeader: () => void,
): AsyncGenerator<Uint8Array> {
  let told = false;
  const tell = (): void => {
    if (!told && dec.messageInfo) {
      told = true;
      onHeader();
    }
  };
  for await (const chunk of reads(fd, onBytes)) {
    const parts = await dec.update(chunk);
    tell();
    for (const p of parts) if (p.byteLength) yield p;
  }
  const parts = await dec.finish();
  tell();
  for (const p of parts) if (p.byteLength) yield p;
}
