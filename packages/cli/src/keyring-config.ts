/**
 * `--keyring K` for the CLI: a JSON file path or inline JSON, read and built by @envelope/config
 * (the same schemas, providers and plugins as application code). Relative paths resolve against
 * the configuration file's directory (the working directory for inline JSON); plugin packages
 * resolve from the CLI's own installation, never from the working directory, and plugins given
 * as paths load only with ENVELOPE_ALLOW_PATH_PLUGINS=1 (docs/plugins.md). JSON errors give the
 * position only (15.5); a configuration file that others can read and that holds a key inline
 * is warned about on stderr (15.9).
 *
 * A command builds its keyring or materials manager once and uses it for every file: a batch
 * then shares one multi-region health registry (its circuit breakers), one cache, one set of
 * KMS clients.
 */
import type { Keyring, MaterialsManager } from '@envelope/core';
import type { AuditSink, BuildOptions, KeyringRegistry, ReadConfig } from '@envelope/config';
import type { CliIo } from './io.js';

/** Reads `--keyring` (or another argument named `what`): inline JSON if it starts with "{", else a file path. */
export async function readKeyringConfig(arg: string, what = 'keyring'): Promise<ReadConfig> {
  const { readConfigArgument } = await import('@envelope/config');
  return readConfigArgument(arg, what);
}

/** Build options for a configuration read by {@link readKeyringConfig}; warnings go to stderr. */
export function buildOptions(read: ReadConfig, io: CliIo, audit?: AuditSink): BuildOptions {
  const env = io.env ?? process.env;
  return {
    baseDir: read.baseDir,
    env,
    source: read.source,
    pluginsFrom: import.meta.url,
    allowPathPlugins: env.ENVELOPE_ALLOW_PATH_PLUGINS === '1',
    onWarning: (w) => io.stderr.write(`envelope: warning: ${w.code}: ${w.message}\n`),
    ...(audit ? { audit } : {}),
  };
}

/** A materials manager for encrypt/decrypt (a caching one when the configuration says so). */
export async function loadMaterialsManager(arg: string, io: CliIo, audit?: AuditSink): Promise<MaterialsManager> {
  const read = await readKeyringConfig(arg);
  const { buildMaterialsManager } = await import('@envelope/config');
  return buildMaterialsManager(read.config, buildOptions(read, io, audit));
}

/** A keyring (for rewrap's from/to). */
export async function loadKeyringOnly(arg: string, io: CliIo, audit?: AuditSink): Promise<Keyring> {
  const read = await readKeyringConfig(arg);
  const { buildKeyring } = await import('@envelope/config');
  return buildKeyring(read.config, buildOptions(read, io, audit));
}

/**
 * The keyrings of one command that takes several configurations (rewrap's `--from` and `--to`):
 * each configuration gets its own registry (its plugins, its audit section, its base
 * directory), and every registry after the first shares the first one's health registry, so
 * that the whole batch has ONE set of region breakers: once a region's breaker opens, no later
 * file waits out a deadline there, whichever keyring calls it (issue 18.3). The health
 * registry is made only if a KMS keyring asks for it (a raw-key batch never loads the SDK).
 */
export class CommandKeyrings {
  #first: KeyringRegistry | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly audit?: AuditSink,
  ) {}

  /** Builds a keyring from `--from`/`--to`/`--keyring` (a file path or inline JSON). */
  async keyring(arg: string, what = 'keyring'): Promise<Keyring> {
    const read = await readKeyringConfig(arg, what);
    const { buildKeyring } = await import('@envelope/config');
    const options = buildOptions(read, this.io, this.audit);
    return buildKeyring(read.config, { ...options, registry: await this.#registry(options) });
  }

  async #registry(options: BuildOptions): Promise<KeyringRegistry> {
    const { createRegistry, HEALTH_REGISTRY } = await import('@envelope/config');
    const registry = createRegistry(options);
    const first = this.#first;
    if (first) registry.services.override(HEALTH_REGISTRY, () => first.get(HEALTH_REGISTRY));
    else this.#first = registry;
    return registry;
  }
}
