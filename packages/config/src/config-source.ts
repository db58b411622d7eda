/**
 * Reading a configuration: a file path or inline JSON (the CLI's `--keyring K`). Syntax errors
 * give the position only, never the text (finding 15.5); a file's mode is kept so that a
 * build can warn when a file that others can read holds a key inline (finding 15.9).
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { configError } from './errors.js';
import { jsonErrorOffset, lineColumn } from './json-position.js';

/** Configuration files are small; a larger one is a mistake (the wrong path). */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Where a configuration came from: a file, with its permissions when it was read. */
export interface ConfigSource {
  /** The path as given. */
  readonly file: string;
  /** `st_mode & 0o777` of the file when it was read. */
  readonly mode: number;
}

export interface ReadConfig {
  readonly config: unknown;
  /** Relative paths in the configuration resolve here: the file's directory, or `cwd` for inline JSON. */
  readonly baseDir: string;
  /** The file, for inline JSON undefined. */
  readonly source?: ConfigSource;
}

/**
 * Parses JSON; an error names `what` and the line and column, and repeats none of the text.
 *
 * @example
 * ```ts
 * parseConfigJson('{"key": QV3q}', 'keyring'); // throws "keyring: invalid JSON (line 1, column 9)"
 * ```
 */
export function parseConfigJson(text: string, what: string, file?: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    // The engine's message quotes the text around the error: it is not passed on, not even as a cause.
    const at = jsonErrorOffset(body);
    const { line, column } = lineColumn(body, at);
    const where = at < 0 ? '' : ` (${at >= body.length ? 'unexpected end at ' : ''}line ${line}, column ${column})`;
    throw configError(what, `${file === undefined ? '' : `${JSON.stringify(file)}: `}invalid JSON${where}`);
  }
}

/**
 * Reads `arg` as the CLI's `--keyring` does: inline JSON if it starts with `{`, else a path.
 *
 * @param what names the argument in errors (`keyring`, `from`, `to`).
 * @param cwd resolves the path and is the base directory of inline JSON.
 */
export async function readConfigArgument(arg: string, what = 'keyring', cwd = process.cwd()): Promise<ReadConfig> {
  if (arg.trimStart().startsWith('{')) return { config: parseConfigJson(arg, what), baseDir: cwd };
  const file = path.resolve(cwd, arg);
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw configError(what, `cannot read ${JSON.stringify(arg)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw configError(what, `${JSON.stringify(arg)} is not a regular file`);
    if (st.size > MAX_CONFIG_BYTES) throw configError(what, `${JSON.stringify(arg)} is too large for a configuration (${st.size} bytes)`);
    const text = await fh.readFile('utf8');
    return {
      config: parseConfigJson(text, what, arg),
      baseDir: path.dirname(file),
      source: { file: arg, mode: st.mode & 0o777 },
    };
  } finally {
    await fh.close();
  }
}
