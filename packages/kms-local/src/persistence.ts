/**
 * The data directory: `state.json` (keys, aliases, wrapped key material) and `root.key` (the
 * AES-256 key that wraps the material at rest, mode 0600). Every write is atomic and durable:
 * temporary file, fsync, rename over the old file, fsync of the directory — a crash leaves either
 * the old state or the new one, never half of either.
 *
 * The directory and its files must be the user's own and private, as ssh insists for its keys:
 * each is opened once with O_NOFOLLOW (a symbolic link is refused) and the open descriptor's
 * fstat is checked — owner, type, and no group or other permission bits — before anything is read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EnvelopeError } from '@envelope/core';

const ROOT_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Refuse to parse a state file larger than this (a corrupt or foreign file). */
const MAX_STATE_BYTES = 256 * 1024 * 1024;
/** AAD for wrapped material, so a wrapped blob cannot be mistaken for anything else. */
const WRAP_AAD = Buffer.from('kms-local material v1', 'utf8');

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** A coded start-up error about the data directory (the CLI prints `envelope: ENVELOPE_CONFIG: …`). */
function dataDirError(message: string, cause?: unknown): EnvelopeError {
  return new EnvelopeError('ENVELOPE_CONFIG', `kms-local: ${message}`, cause === undefined ? undefined : { cause });
}

/** `EACCES` and friends, said without a stack or a bare errno. */
function because(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ?? err?.message ?? String(e);
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** POSIX modes and owners mean nothing on Windows; there the checks are skipped. */
const POSIX = process.platform !== 'win32';

/**
 * Opens `file` (a regular file, or with `directory` a directory) without following a symbolic
 * link, and refuses it unless the process's user owns it and neither group nor others have any
 * permission on it. Returns the open handle: what was checked is what is read.
 */
export async function openPrivate(file: string, kind: 'file' | 'directory'): Promise<FileHandle> {
  const flags = constants.O_RDONLY | NOFOLLOW | (kind === 'directory' ? (constants.O_DIRECTORY ?? 0) : 0);
  let h: FileHandle;
  try {
    h = await open(file, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Linux says ELOOP for a link opened with O_NOFOLLOW, or ENOTDIR when O_DIRECTORY is set too.
    const link =
      code === 'ELOOP' || code === 'EMLINK' || (code === 'ENOTDIR' && (await lstat(file).catch(() => undefined))?.isSymbolicLink());
    if (link) throw dataDirError(`${file} is a symbolic link; give the real ${kind}`, e);
    if (code === 'ENOTDIR') throw dataDirError(`${file} is not a directory`, e);
    throw e;
  }
  try {
    const st = await h.stat();
    if (kind === 'file' ? !st.isFile() : !st.isDirectory())
      throw dataDirError(`${file} is not a ${kind === 'file' ? 'regular file' : kind}`);
    if (POSIX) {
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid)
        throw dataDirError(`${file} belongs to uid ${st.uid}, not to this user (uid ${uid}); kms-local uses only its own files`);
      if ((st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        throw dataDirError(
          `${file} is accessible by group or others (mode ${mode}); it holds key material: chmod ${kind === 'file' ? '600' : '700'} it`,
        );
      }
    }
    return h;
  } catch (e) {
    await h.close();
    throw e;
  }
}

/** Writes `data` to `file` atomically: temp file, fsync, rename, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const h = await open(tmp, 'wx', mode);
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (e) {
    await h.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await h.close();
  await rename(tmp, file);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Keeps a coded error as it is; makes anything else (an errno) a coded error saying what failed. */
function rethrowAs(what: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof EnvelopeError) throw e;
    throw dataDirError(`${what} (${because(e)})`, e);
  };
}

/** The data directory of one kms-local: its root key, and the serialized state file. */
export class StateFile {
  readonly #rootKey: Buffer;
  readonly #file: string;
  /** Writes run one after another, so an older snapshot never lands after a newer one. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(rootKey: Buffer, file: string) {
    this.#rootKey = rootKey;
    this.#file = file;
  }

  /**
   * Opens (creating if needed, mode 0700) a data directory. Refuses one, or a root.key or
   * state.json in it, that is a symbolic link, another user's, or open to group or others; and a
   * state file whose root key is gone.
   */
  static async open(dir: string): Promise<StateFile> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw dataDirError(`cannot create the data directory ${dir} (${because(e)})`, e);
    }
    await (await openPrivate(dir, 'directory').catch(rethrowAs(`cannot open the data directory ${dir}`))).close();
    const file = path.join(dir, 'state.json');
    const rootFile = path.join(dir, 'root.key');
    let rootKey: Buffer;
    let h: FileHandle | undefined;
    try {
      h = await openPrivate(rootFile, 'file');
    } catch (e) {
      if (!isMissing(e)) throw rethrowAs(`cannot read ${rootFile}`)(e);
    }
    if (h) {
      try {
        rootKey = await h.readFile();
      } catch (e) {
        throw dataDirError(`cannot read ${rootFile} (${because(e)})`, e);
      } finally {
        await h.close();
      }
      if (rootKey.byteLength !== ROOT_KEY_BYTES) throw dataDirError(`${rootFile} is not a ${ROOT_KEY_BYTES}-byte key`);
    } else {
      // A state file without its root key cannot be read; a fresh root key would only hide that.
      const hasState = await lstat(file).then(
        () => true,
        (err: unknown) => (isMissing(err) ? false : Promise.reject(rethrowAs(`cannot read ${file}`)(err))),
      );
      if (hasState) throw dataDirError(`${file} exists but ${rootFile} is missing`);
      rootKey = randomBytes(ROOT_KEY_BYTES);
      try {
        await writeFileAtomic(rootFile, rootKey, 0o600);
      } catch (e) {
        throw dataDirError(`cannot write ${rootFile} (${because(e)})`, e);
      }
    }
    return new StateFile(rootKey, file);
  }

  /** Wraps key material for storage (AES-256-GCM under the root key): base64 of IV ‖ ct ‖ tag. */
  wrap(material: Buffer): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.#rootKey, iv);
    c.setAAD(WRAP_AAD);
    return Buffer.concat([iv, c.update(material), c.final(), c.getAuthTag()]).toString('base64');
  }

  /** Unwraps stored key material; throws when it does not authenticate under this root key. */
  unwrap(wrapped: string): Buffer {
    const b = Buffer.from(typeof wrapped === 'string' ? wrapped : '', 'base64');
    if (b.byteLength < IV_BYTES + TAG_BYTES) throw dataDirError('wrapped key material in state.json is truncated');
    const d = createDecipheriv('aes-256-gcm', this.#rootKey, b.subarray(0, IV_BYTES));
    d.setAAD(WRAP_AAD);
    d.setAuthTag(b.subarray(b.byteLength - TAG_BYTES));
    try {
      return Buffer.concat([d.update(b.subarray(IV_BYTES, b.byteLength - TAG_BYTES)), d.final()]);
    } catch {
      throw dataDirError('wrapped key material in state.json does not authenticate under root.key');
    }
  }

  /** The parsed state, or undefined when there is none yet. A corrupt file is an error, not "empty". */
  async read(): Promise<unknown> {
    let h: FileHandle;
    try {
      h = await openPrivate(this.#file, 'file');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw rethrowAs(`cannot read ${this.#file}`)(e);
    }
    let text: string;
    try {
      if ((await h.stat()).size > MAX_STATE_BYTES) throw dataDirError(`${this.#file} is larger than ${MAX_STATE_BYTES} bytes`);
      text = await h.readFile('utf8');
    } catch (e) {
      throw rethrowAs(`cannot read ${this.#file}`)(e);
    } finally {
      await h.close();
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw dataDirError(`${this.#file} is not valid JSON; refusing to start over it`);
    }
  }

  /** Writes a snapshot; resolves once it is durable. Calls are serialized in call order. */
  write(snapshot: unknown): Promise<void> {
    const text = JSON.stringify(snapshot);
    const run = (): Promise<void> => writeFileAtomic(this.#file, text);
    const next = this.#queue.then(run, run);
    // The queue itself never rejects, so one failed write does not poison the next.
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every write started so far has finished. */
  flush(): Promise<void> {
    return this.#queue;
  }
}
