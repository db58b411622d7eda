/**
 * `--keyring K` for the CLI: a JSON file path or inline JSON, built by @envelope/config (the
 * same schemas, providers and plugins as application code). Relative paths and plugins resolve
 * against the configuration file's directory (the working directory for inline JSON).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvelopeError, type Keyring, type MaterialsManager } from '@envelope/core';
import { buildKeyring, buildMaterialsManager, type AuditSink } from '@envelope/config';
import type { CliIo } from './io.js';

export type KeySourceOption = { materialsManager: MaterialsManager };

/** Reads `--keyring`: inline JSON if it starts with "{", else a file path. */
export async function readKeyringConfig(arg: string): Promise<{ config: unknown; baseDir: string }> {
  const inline = arg.trimStart().startsWith('{');
  const text = inline
    ? arg
    : await readFile(arg, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new EnvelopeError('ENVELOPE_CONFIG', `keyring: cannot read ${JSON.stringify(arg)} (${e.code ?? e.message})`);
      });
  try {
    return { config: JSON.parse(text), baseDir: inline ? process.cwd() : path.dirname(path.resolve(arg)) };
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_CONFIG', `keyring: invalid JSON (${(e as Error).message})`);
  }
}

/** A materials manager for encrypt/decrypt (a caching one when the configuration says so). */
export async function loadKeyring(arg: string, io: CliIo, audit?: AuditSink): Promise<KeySourceOption> {
  const { config, baseDir } = await readKeyringConfig(arg);
  return { materialsManager: await buildMaterialsManager(config, { baseDir, env: io.env ?? process.env, ...(audit ? { audit } : {}) }) };
}

/** A keyring (for rewrap's from/to). */
export async function loadKeyringOnly(arg: string, io: CliIo, audit?: AuditSink): Promise<Keyring> {
  const { config, baseDir } = await readKeyringConfig(arg);
  return buildKeyring(config, { baseDir, env: io.env ?? process.env, ...(audit ? { audit } : {}) });
}
