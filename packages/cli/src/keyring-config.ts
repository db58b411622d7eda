/**
 * `--keyring K` for the CLI: a JSON file path or inline JSON, built by @envelope/config (the
 * same schemas, providers and plugins as application code). Relative paths and plugins resolve
 * against the configuration file's directory (the working directory for inline JSON).
 *
 * A command builds its keyring or materials manager once and uses it for every file: a batch
 * then shares one multi-region health registry (its circuit breakers), one cache, one set of
 * KMS clients.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Keyring, MaterialsManager } from '@envelope/core';
import type { AuditSink } from '@envelope/config';
import { CliError, type CliIo } from './io.js';
import { jsonErrorPosition } from './json-position.js';

/** Reads `--keyring`: inline JSON if it starts with "{", else a file path. */
export async function readKeyringConfig(arg: string): Promise<{ config: unknown; baseDir: string }> {
  const inline = arg.trimStart().startsWith('{');
  const text = inline
    ? arg
    : await readFile(arg, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new CliError('ENVELOPE_CONFIG', `keyring: cannot read ${JSON.stringify(arg)} (${e.code ?? e.message})`);
      });
  try {
    return { config: JSON.parse(text), baseDir: inline ? process.cwd() : path.dirname(path.resolve(arg)) };
  } catch {
    // Never V8's message: it quotes the text around the error, and the text may hold a key (15.5).
    throw new CliError('ENVELOPE_CONFIG', `keyring${inline ? '' : ` ${JSON.stringify(arg)}`}: invalid JSON (${jsonErrorPosition(text)})`);
  }
}

/** A materials manager for encrypt/decrypt (a caching one when the configuration says so). */
export async function loadMaterialsManager(arg: string, io: CliIo, audit?: AuditSink): Promise<MaterialsManager> {
  const { config, baseDir } = await readKeyringConfig(arg);
  const { buildMaterialsManager } = await import('@envelope/config');
  return buildMaterialsManager(config, { baseDir, env: io.env ?? process.env, ...(audit ? { audit } : {}) });
}

/** A keyring (for rewrap's from/to). */
export async function loadKeyringOnly(arg: string, io: CliIo, audit?: AuditSink): Promise<Keyring> {
  const { config, baseDir } = await readKeyringConfig(arg);
  const { buildKeyring } = await import('@envelope/config');
  return buildKeyring(config, { baseDir, env: io.env ?? process.env, ...(audit ? { audit } : {}) });
}
