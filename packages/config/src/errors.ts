/** Configuration errors that name the path and the problem: `keyring.children[1].keyId: expected an ARN`. */
import { EnvelopeError } from '@envelope/core';
import type { StandardSchemaV1 } from './standard-schema.js';

/** An `ENVELOPE_CONFIG` error whose message starts with the path of the problem. */
export function configError(path: string, problem: string, cause?: unknown): EnvelopeError {
  return new EnvelopeError('ENVELOPE_CONFIG', `${path}: ${problem}`, cause === undefined ? undefined : { cause });
}

/**
 * Joins a base path and a schema issue path: keyring + ['children', 1, 'keyId'] →
 * keyring.children[1].keyId. An empty base is the top of the configuration file, whose fields
 * are named bare (`cache.maxAgeMs`); the top itself is `config`.
 */
export function joinPath(base: string, parts: readonly (PropertyKey | StandardSchemaV1.PathSegment)[]): string {
  let p = base;
  for (const raw of parts) {
    const part = typeof raw === 'object' ? raw.key : raw;
    p += typeof part === 'number' ? `[${part}]` : p === '' ? String(part) : `.${String(part)}`;
  }
  return p === '' ? 'config' : p;
}

/**
 * Validates with any Standard Schema (this package's `s` builders, or zod): the first problem
 * becomes one coded error naming its path. Schemas must validate synchronously.
 */
export function parseAt<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, path: string): T {
  const r = schema['~standard'].validate(value);
  if (r instanceof Promise) throw configError(path, 'the schema validates asynchronously, which is not supported');
  if (!r.issues) return r.value;
  const issue = r.issues[0]! as StandardSchemaV1.Issue & { code?: unknown; keys?: unknown };
  const at = issue.path ?? [];
  // zod reports unknown fields on the object ("Unrecognized key"): name the field's own path.
  if (issue.code === 'unrecognized_keys' && Array.isArray(issue.keys) && typeof issue.keys[0] === 'string')
    throw configError(joinPath(path, [...at, issue.keys[0]]), 'unknown field');
  // zod prefixes its messages with "Invalid input: "; the path already says where.
  throw configError(joinPath(path, at), issue.message.replace(/^Invalid input: /, ''));
}
