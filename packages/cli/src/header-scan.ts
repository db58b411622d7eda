/**
 * Reading the headers of many stored messages fast: `dr-report` reads 100,000 files' headers
 * in seconds. Per file: open (never following a link found in a tree) and read the first
 * 4 KiB. A file shorter than that has been read whole (its size needs no fstat) and is parsed
 * in one pass with core's {@link parseHeader}; a longer file goes through core's incremental {@link HeaderParser}, which reads
 * more only as a long header needs (up to its 1 MiB cap); close. O(header) per file; nothing
 * past the header is read. The header returned owns its bytes: it may outlive the next read.
 *
 * Synchronous on purpose: for a header-sized read of a local file, a round trip through libuv's
 * thread pool costs more than the read itself (bench case `dr-report`), and a report has
 * nothing else to do meanwhile. The one buffer is reused across files.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HeaderParser, parseHeader, type HeaderLimits, type ParsedHeader } from '@envelope/core';

/** The first read: a typical header (a few EDKs and a context) fits. */
const FIRST_READ = 4096;
/** Later reads, for long headers (many EDKs, a large context). */
const NEXT_READ = 64 * 1024;

/** Limits for reading headers of messages at rest: any count and frame length the format allows, capped by the header length. */
export const AT_REST_LIMITS: HeaderLimits = { maxEncryptedDataKeys: 0xffff, maxFrameLength: 0xffffffff };

/** A reusable reader of headers (one per concurrent reader: it owns a buffer). */
export class HeaderScanner {
  readonly #buf = Buffer.allocUnsafe(NEXT_READ);

  constructor(private readonly limits: HeaderLimits = AT_REST_LIMITS) {}

  /**
   * The header of `file` and the file's size. `follow`: open a symbolic link (a path the user
   * named); otherwise a link is refused (ELOOP). Throws core's coded errors for a file that is
   * not a message or whose header is malformed, and errno errors for I/O.
   */
  read(file: string, follow = false): { header: ParsedHeader; size: number } {
    const fd = openSync(file, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW));
    try {
      // Most headers are in the first read: parsed in one pass from a copy of it handed to
      // the header (small copies come from Node's buffer pool; the fields are views of it).
      let n = readSync(fd, this.#buf, 0, FIRST_READ, null);
      if (n > 0 && n < FIRST_READ)
        return { header: parseHeader(Buffer.from(this.#buf.subarray(0, n)), this.limits, { owned: true }), size: n };
      const size = fstatSync(fd).size;
      const parser = new HeaderParser(this.limits);
      let header = n === 0 ? undefined : parser.push(this.#buf.subarray(0, n));
      while (!header) {
        n = readSync(fd, this.#buf, 0, NEXT_READ, null);
        header = n === 0 ? parser.end() : parser.push(this.#buf.subarray(0, n));
      }
      return { header, size };
    } finally {
      closeSync(fd);
    }
  }
}
