/** Reading message headers from files or streams, incrementally and bounded. */
import { createReadStream, constants, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseHeader, type HeaderLimits, type ParsedHeader } from '@envelope/core';
import { CliError } from './io.js';

/**
 * A read stream over `file`, opened now; without following a symbolic link unless `follow` (a
 * file the user named; never for files found in a tree).
 */
export function openInputFile(file: string, highWaterMark = 64 * 1024, follow = false): Readable {
  const fd = openSync(file, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW));
  return createReadStream('', { fd, highWaterMark });
}

export function inputStream(stdin: NodeJS.ReadableStream, file: string | undefined): NodeJS.ReadableStream | Readable {
  return file === undefined || file === '-' ? stdin : openInputFile(file, 64 * 1024, true);
}

/** The largest header the EDK limit allows: fixed fields, a full context, every EDK at its largest. */
export function maxHeaderBytes(limits: HeaderLimits): number {
  return 128 + 0x10001 + limits.maxEncryptedDataKeys * (6 + 3 * 0xffff);
}

/**
 * Reads just enough of a stream to parse a message header. The header is parsed again only when
 * the bytes held have doubled since the last try, so a header streamed in small chunks costs
 * linear time, not quadratic (issue 15, finding 3); the bytes held are bounded by what the EDK
 * limit allows.
 */
export async function readHeader(stream: NodeJS.ReadableStream, limits: HeaderLimits): Promise<ParsedHeader> {
  const max = maxHeaderBytes(limits);
  const parts: Buffer[] = [];
  let n = 0;
  let nextTry = 0;
  const attempt = (): ParsedHeader | undefined => {
    const buf = Buffer.concat(parts, n);
    parts.length = 0;
    parts.push(buf);
    try {
      return parseHeader(buf, limits, true);
    } catch (e) {
      // Coded errors are final; core's NeedMoreData (uncoded) means "read on".
      if ((e as { code?: string }).code?.startsWith('ENVELOPE_')) throw e;
      return undefined;
    }
  };
  try {
    for await (const c of stream as AsyncIterable<Buffer | string>) {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      parts.push(b);
      n += b.byteLength;
      if (n < nextTry) continue;
      const h = attempt();
      if (h) return h;
      if (n > max) throw new CliError('ENVELOPE_LIMIT_EXCEEDED', 'message header exceeds the size the EDK limit allows');
      nextTry = Math.max(n * 2, 4096);
    }
    return parseHeader(Buffer.concat(parts, n), limits, false);
  } finally {
    (stream as Partial<Readable>).destroy?.();
  }
}
