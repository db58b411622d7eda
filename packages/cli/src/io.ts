/**
 * The streams a command reads and writes (injectable so tests run commands in-process), and the
 * one shape every error takes on stderr: `envelope: ENVELOPE_<CODE>: message`.
 *
 * This module is on the path of every command, `--help` and `--version` included, so it imports
 * nothing heavy: errors are recognised by their `code`, not by class.
 */

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Environment (for credentials); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export function defaultIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** An error the CLI raises itself, with a stable `ENVELOPE_…` code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A usage error: bad flags or arguments (`ENVELOPE_USAGE`). */
export class UsageError extends CliError {
  constructor(message: string) {
    super('ENVELOPE_USAGE', message);
    this.name = 'UsageError';
  }
}

/** What an operating-system error number means, in words (the errno is kept in parentheses). */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ELOOP: 'is a symbolic link (not followed)',
  EXDEV: 'not on the same file system',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
};

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

/** The code and message an error is reported with. Never a stack; never input that may hold a key. */
export function describeError(e: unknown): { code: string; message: string } {
  const err = e as (Error & { code?: unknown; path?: unknown; syscall?: unknown }) | undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (code?.startsWith('ENVELOPE_')) return { code, message };
  if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return { code: 'ENVELOPE_BROKEN_PIPE', message: 'the output was closed before everything was written (broken pipe)' };
  }
  // node:util's parseArgs explains some errors over several lines: one line here.
  if (code?.startsWith('ERR_PARSE_ARGS')) return { code: 'ENVELOPE_USAGE', message: oneLine(message) };
  if (code && ERRNO_WORDS[code]) {
    const where = typeof err?.path === 'string' ? `${err.path}: ` : '';
    return { code: 'ENVELOPE_IO', message: `${where}${ERRNO_WORDS[code]} (${code})` };
  }
  if (code && /^E[A-Z]+$/.test(code)) {
    const where = typeof err?.path === 'string' ? `${err.path}: ` : '';
    return { code: 'ENVELOPE_IO', message: `${where}${typeof err?.syscall === 'string' ? `${err.syscall} ` : ''}failed (${code})` };
  }
  return { code: 'ENVELOPE_INTERNAL', message: message.split('\n')[0] ?? 'internal error' };
}

/** Writes an error as `envelope: ENVELOPE_<CODE>: message`; returns the exit code (1). */
export function reportError(io: Pick<CliIo, 'stderr'>, e: unknown): number {
  const { code, message } = describeError(e);
  io.stderr.write(`envelope: ${code}: ${message}\n`);
  return 1;
}

/** Parses an integer flag, with bounds. */
export function intFlag(v: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} expects an integer from ${min} to ${max}`);
  return n;
}

/**
 * `ENVELOPE_DEBUG_EVENTS=1`: report temporaries, spools and renames on stderr as
 * `envelope: debug: <event> <detail>`, so that tests can send a signal at a known point
 * instead of sleeping.
 */
export function debugEvents(io: CliIo): ((event: string, detail: string) => void) | undefined {
  if ((io.env ?? process.env)['ENVELOPE_DEBUG_EVENTS'] !== '1') return undefined;
  return (event, detail) => void io.stderr.write(`envelope: debug: ${event} ${detail}\n`);
}
