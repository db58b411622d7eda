/** Configuration errors that name the path and the problem: `keyring.children[1].keyId: expected an ARN`. */
import { EnvelopeError } from '@envelope/core';
import type { z } from 'zod';

export function configError(path: string, problem: string, cause?: unknown): EnvelopeError {
  return new EnvelopeError('ENVELOPE_CONFIG', `${path}: ${problem}`, cause === undefined ? undefined : { cause });
}

/** Joins a base path and a zod issue path: keyring + ['children', 1, 'keyId'] → keyring.children[1].keyId */
export function joinPath(base: string, parts: readonly PropertyKey[]): string {
  let p = base;
  for (const part of parts) p += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return p;
}

/** Parses with a zod schema; the first problem becomes one coded error naming its path. */
export function parseAt<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  return (() => {
    throw configError(joinPath(path, issue.path), issue.message.replace(/^Invalid input: /, ''));
  })();
}
