/**
 * Reading the headers of many stored messages fast: `dr-report` reads 100,000 files' headers
 * in seconds. Per file: open (never following a link found in a tree), fstat, read the first
 * 4 KiB into core's incremental {@link HeaderParser}, more only if the header is longer (up to
 * its 1 MiB cap), close. O(header) per file; nothing past the header is read.
 *
 * Synchronous on purpose: for a header-sized read of a local file, a round trip through libuv's
 * thread pool costs more than the read itself (bench case `dr-report`), and a report has
 * nothing else to do meanwhile. The one buffer is reused across files.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HeaderParser, type HeaderLimits, type ParsedHeader } from '@envelope/core';

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
      const size = fstatSync(fd).size;
      const parser = new HeaderParser(this.limits);
      let want = FIRST_READ;
      for (;;) {
        const n = readSync(fd, this.#buf, 0, want, null);
        if (n === 0) return { header: parser.end(), size };
        const header = parser.push(this.#buf.subarray(0, n));
        if (header) return { header, size };
        want = NEXT_READ;
      }
    } finally {
      closeSync(fd);
    }
  }
}
