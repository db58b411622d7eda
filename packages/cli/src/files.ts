/** Input and output for commands: files or stdin/stdout, with crash-safe file output. */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { EnvelopeError, parseHeader, type HeaderLimits, type ParsedHeader } from '@envelope/core';
import type { CliIo } from './io.js';

export function inputStream(io: CliIo, file: string | undefined): NodeJS.ReadableStream | Readable {
  return file === undefined || file === '-' ? io.stdin : createReadStream(file);
}

/** An output that becomes visible only when complete: temp file, fsync, rename. */
export interface Output {
  stream: NodeJS.WritableStream | Writable;
  /** Makes the output durable and visible. */
  commit(): Promise<void>;
  /** Removes a partial output. */
  abort(): Promise<void>;
}

export async function outputStream(io: CliIo, file: string | undefined): Promise<Output> {
  if (file === undefined || file === '-') {
    return { stream: io.stdout, commit: async () => {}, abort: async () => {} };
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
  await once(stream, 'open');
  return {
    stream,
    async commit() {
      // The pipeline has ended (and closed) the stream; make the bytes durable, then visible.
      const h = await open(tmp, 'r+');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(tmp, file);
    },
    async abort() {
      stream.destroy();
      await unlink(tmp).catch(() => {});
    },
  };
}

/** Reads a whole (small) input, e.g. the start of a message for inspect. */
export async function readAll(stream: NodeJS.ReadableStream, limit = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer | string>) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    parts.push(b);
    n += b.byteLength;
    if (n >= limit) break;
  }
  return Buffer.concat(parts);
}

/**
 * Reads just enough of a stream to parse a message header (bounded by what the EDK limit
 * allows). Returns the header and every byte read so far.
 */
export async function readHeader(stream: NodeJS.ReadableStream, limits: HeaderLimits): Promise<ParsedHeader> {
  let buf = Buffer.alloc(0);
  const max = 128 + 0x10001 + limits.maxEncryptedDataKeys * (6 + 3 * 0xffff);
  for await (const c of stream as AsyncIterable<Buffer | string>) {
    buf = Buffer.concat([buf, typeof c === 'string' ? Buffer.from(c) : c]);
    try {
      const h = parseHeader(buf, limits, true);
      (stream as Partial<Readable>).destroy?.();
      return h;
    } catch (e) {
      if (e instanceof EnvelopeError) throw e;
      if (buf.byteLength > max) throw new EnvelopeError('ENVELOPE_LIMIT_EXCEEDED', 'header exceeds the size the EDK limit allows');
    }
  }
  return parseHeader(buf, limits, false);
}
