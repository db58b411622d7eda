/**
 * The data directory: `state.json` (keys, aliases, wrapped key material) and `root.key` (the
 * AES-256 key that wraps the material at rest, mode 0600). Every write is atomic and durable:
 * temporary file, fsync, rename over the old file, fsync of the directory — a crash leaves either
 * the old state or the new one, never half of either.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

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

  /** Opens (creating if needed) a data directory; refuses a state file whose root key is gone. */
  static async open(dir: string): Promise<StateFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'state.json');
    const rootFile = path.join(dir, 'root.key');
    let rootKey: Buffer;
    try {
      rootKey = await readFile(rootFile);
      if (rootKey.byteLength !== ROOT_KEY_BYTES) throw new Error(`kms-local: ${rootFile} is not a ${ROOT_KEY_BYTES}-byte key`);
    } catch (e) {
      if (!isMissing(e)) throw e;
      // A state file without its root key cannot be read; a fresh root key would only hide that.
      const hasState = await readFile(file).then(
        () => true,
        (err: unknown) => (isMissing(err) ? false : Promise.reject(err)),
      );
      if (hasState) throw new Error(`kms-local: ${file} exists but ${rootFile} is missing`, { cause: e });
      rootKey = randomBytes(ROOT_KEY_BYTES);
      await writeFileAtomic(rootFile, rootKey, 0o600);
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
    const b = Buffer.from(wrapped, 'base64');
    if (b.byteLength < IV_BYTES + TAG_BYTES) throw new Error('kms-local: wrapped key material is truncated');
    const d = createDecipheriv('aes-256-gcm', this.#rootKey, b.subarray(0, IV_BYTES));
    d.setAAD(WRAP_AAD);
    d.setAuthTag(b.subarray(b.byteLength - TAG_BYTES));
    try {
      return Buffer.concat([d.update(b.subarray(IV_BYTES, b.byteLength - TAG_BYTES)), d.final()]);
    } catch {
      throw new Error('kms-local: wrapped key material does not authenticate under root.key');
    }
  }

  /** The parsed state, or undefined when there is none yet. A corrupt file is an error, not "empty". */
  async read(): Promise<unknown> {
    let text: string;
    try {
      const h = await open(this.#file, 'r');
      try {
        if ((await h.stat()).size > MAX_STATE_BYTES) throw new Error(`kms-local: ${this.#file} is larger than ${MAX_STATE_BYTES} bytes`);
        text = await h.readFile('utf8');
      } finally {
        await h.close();
      }
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`kms-local: ${this.#file} is not valid JSON; refusing to start over it`);
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
