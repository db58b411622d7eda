/**
 * Where plugin code may come from (finding 15.1). A configuration names code to run, so:
 * - a package name resolves only from the installation — the application's (where this package
 *   is installed) or the one the host names (the CLI passes its own) — never from the working
 *   directory or the configuration file's directory;
 * - a path (`./x.js`, `/opt/x.js`, `file:` URL) loads only when the caller opted in, and only if
 *   neither the file nor its directory can be written by group or others, and both belong to
 *   this user or root; checked before anything is imported;
 * - anything else (`data:`, `http:`, `node:` URLs) is refused.
 * docs/plugins.md, "Where plugins load from", says the same for users.
 */
import { realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configError } from './errors.js';
import { isConfigModule, type ConfigModule } from './provider.js';

export interface PluginSource {
  /** A file or URL inside the installation that package names resolve from. */
  readonly resolveFrom: string | URL;
  /** Whether path plugins may load at all. */
  readonly allowPathPlugins: boolean;
  /** Relative path plugins resolve against this (the configuration file's directory). */
  readonly baseDir: string;
}

/** An npm package name, optionally with a subpath: `@scope/name`, `name/sub`. */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(?:\/[A-Za-z0-9._~@-]+)*$/;
const isPath = (name: string): boolean => /^(?:\.{1,2}\/|\/|file:)/.test(name) || name === '.' || name === '..';

/** Refuses a file or directory that others could change. */
function checkOwnedAndClosed(st: { mode: number; uid: number }, what: string, at: string, name: string): void {
  if ((st.mode & 0o022) !== 0)
    throw configError(
      at,
      `plugin ${JSON.stringify(name)}: ${what} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); refusing to load it`,
    );
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && st.uid !== uid && st.uid !== 0)
    throw configError(at, `plugin ${JSON.stringify(name)}: ${what} belongs to another user; refusing to load it`);
}

/** Resolves a plugin entry to a file URL it is safe to import, or throws saying why not. */
export async function resolvePlugin(name: string, at: string, o: PluginSource): Promise<string> {
  if (isPath(name)) {
    if (!o.allowPathPlugins)
      throw configError(
        at,
        `plugin ${JSON.stringify(name)} is a path; loading code from a path needs an explicit opt-in (docs/plugins.md)`,
      );
    const given = name.startsWith('file:') ? fileURLToPath(name) : path.resolve(o.baseDir, name);
    let real: string;
    try {
      real = await realpath(given);
    } catch (e) {
      throw configError(at, `cannot load plugin ${JSON.stringify(name)} (${(e as NodeJS.ErrnoException).code ?? 'not found'})`);
    }
    const file = await stat(real);
    if (!file.isFile()) throw configError(at, `plugin ${JSON.stringify(name)} is not a file`);
    checkOwnedAndClosed(file, 'the file', at, name);
    checkOwnedAndClosed(await stat(path.dirname(real)), 'its directory', at, name);
    return pathToFileURL(real).href;
  }
  if (!PACKAGE_NAME.test(name)) throw configError(at, `plugin ${JSON.stringify(name)} is neither a package name nor a path`);
  try {
    return pathToFileURL(createRequire(o.resolveFrom).resolve(name)).href;
  } catch (e) {
    throw configError(
      at,
      `cannot load plugin ${JSON.stringify(name)}: it is not installed beside ${installationOf(o.resolveFrom)} (${(e as NodeJS.ErrnoException).code ?? 'not found'})`,
      e,
    );
  }
}

/** A short name for where packages resolve from, for messages. */
function installationOf(from: string | URL): string {
  const file = from instanceof URL || from.startsWith('file:') ? fileURLToPath(from) : from;
  const nm = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  return nm >= 0 ? file.slice(0, nm) : path.dirname(file);
}

/**
 * Imports a plugin: its file's URL and its config module (default export, or
 * `keyringProviders`); the module is undefined when `loaded` holds the URL already.
 */
export async function importPlugin(
  name: string,
  at: string,
  o: PluginSource,
  loaded: ReadonlySet<string> = new Set(),
): Promise<{ url: string; module: ConfigModule | undefined }> {
  const url = await resolvePlugin(name, at, o);
  if (loaded.has(url)) return { url, module: undefined };
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw configError(at, `cannot load plugin ${JSON.stringify(name)} (${(e as Error).message.split('\n')[0]})`, e);
  }
  const m = mod.default ?? mod.keyringProviders;
  if (!isConfigModule(m))
    throw configError(
      at,
      `plugin ${JSON.stringify(name)} does not export a config module (default export or "keyringProviders", made with keyringProviderModule() or configModule())`,
    );
  return { url, module: m };
}
