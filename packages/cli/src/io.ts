/** The streams a command reads and writes; injectable so tests run commands in-process. */
import { EnvelopeError } from '@envelope/core';

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

/** A usage error: bad flags or arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Writes an error as `envelope: CODE: message` (never key material: our errors carry none). */
export function reportError(io: CliIo, e: unknown): number {
  if (e instanceof EnvelopeError) {
    io.stderr.write(`envelope: ${e.code}: ${e.message}\n`);
  } else if (e instanceof UsageError) {
    io.stderr.write(`envelope: usage: ${e.message}\n`);
  } else {
    const err = e as NodeJS.ErrnoException;
    io.stderr.write(`envelope: ${err?.code ?? 'ERROR'}: ${err?.message ?? String(e)}\n`);
  }
  return 1;
}

/** Parses repeated `-c key=value` flags into a context. */
export function parseContextPairs(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const ec: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`-c expects key=value, got ${JSON.stringify(p)}`);
    const k = p.slice(0, i);
    if (Object.prototype.hasOwnProperty.call(ec, k)) throw new UsageError(`-c: key ${JSON.stringify(k)} given twice`);
    ec[k] = p.slice(i + 1);
  }
  return ec;
}
