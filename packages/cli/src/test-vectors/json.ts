/**
 * JSON helpers for the manifest parsers: reading a file, checking shapes by hand, and errors that
 * name the file and the JSON path of the problem (`tests.abc.master-keys[0].key: …`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvelopeError } from '@envelope/core';

export type JsonObject = Record<string, unknown>;

/** A manifest problem: `ENVELOPE_CONFIG` with the file and the JSON path in the message. */
export function manifestError(file: string, at: string, problem: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_CONFIG', `${file}: ${at}: ${problem}`);
}

export const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads and parses a JSON file; a missing file or bad JSON is an `ENVELOPE_CONFIG` error naming it. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_CONFIG', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_CONFIG', `${file}: invalid JSON (${(e as Error).message})`);
  }
}

/**
 * Resolves a manifest URI. The framework (0000-framework.md) allows only local files here:
 * `file://X` is X relative to the folder of the manifest naming it; `file:///abs` is absolute.
 */
export function resolveFileUri(uri: unknown, baseDir: string, file: string, at: string): string {
  if (typeof uri !== 'string' || !uri.startsWith('file://'))
    throw manifestError(file, at, `expected a file:// URI, got ${JSON.stringify(uri)}`);
  const rest = uri.slice('file://'.length);
  if (rest === '') throw manifestError(file, at, 'empty file:// URI');
  return rest.startsWith('/') ? fileURLToPath(uri) : path.resolve(baseDir, rest);
}

/** The `manifest: { type, version }` block; checks the type and that the version is one of `versions`. */
export function manifestHeader(j: unknown, file: string, type: string, versions: readonly number[]): { root: JsonObject; version: number } {
  if (!isObject(j)) throw manifestError(file, '$', 'expected a JSON object');
  const m = j.manifest;
  if (!isObject(m)) throw manifestError(file, 'manifest', 'expected an object { type, version }');
  if (m.type !== type) throw manifestError(file, 'manifest.type', `expected ${JSON.stringify(type)}, got ${JSON.stringify(m.type)}`);
  const v = m.version;
  if (typeof v !== 'number' || !versions.includes(v)) {
    throw manifestError(
      file,
      'manifest.version',
      `unsupported ${type} manifest version ${JSON.stringify(v)} (supported: ${versions.join(', ')})`,
    );
  }
  return { root: j, version: v };
}

/** An optional map of strings (encryption contexts). */
export function optionalStringMap(v: unknown, file: string, at: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw manifestError(file, at, 'expected an object of string values');
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw manifestError(file, `${at}.${k}`, 'expected a string');
  return v as Record<string, string>;
}

export function requireString(o: JsonObject, key: string, file: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw manifestError(file, `${at}.${key}`, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

export function optionalString(o: JsonObject, key: string, file: string, at: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw manifestError(file, `${at}.${key}`, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}
