/** Reading message headers from files or streams, incrementally and bounded. */
import { createReadStream, constants, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { readMessageHeader, type HeaderLimits, type ParsedHeader } from '@envelope/core';

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

/**
 * Reads just enough of a stream to parse a message header, incrementally (core's
 * readMessageHeader: linear in the header's length however it is chunked, and capped by
 * `maxHeaderLength`, 1 MiB by default; issue 15, finding 3), then stops reading and closes it.
 */
export async function readHeader(stream: NodeJS.ReadableStream, limits: HeaderLimits): Promise<ParsedHeader> {
  try {
    return (await readMessageHeader(stream as AsyncIterable<Uint8Array | string>, limits)).header;
  } finally {
    (stream as Partial<Readable>).destroy?.();
  }
}
