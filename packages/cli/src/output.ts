/**
 * Where a command's bytes go: a file that appears only when complete, or stdout.
 *
 * File outputs are checked before any work (the directory exists and is writable, the name is
 * not a directory, `--no-overwrite` finds nothing there), then written to a private temporary
 * beside the target (temp.ts), fsynced and renamed into place only by `commit()`.
 *
 * Writes are coalesced: frames are copied into one large buffer and written with one synchronous
 * `write` when it fills, so a message costs a few hundred syscalls per gigabyte rather than one
 * per frame, and no thread-pool round trip per frame either (issue 16: decrypt to a file within
 * 15% of decrypt to /dev/null).
 */
import {
  accessSync,
  closeSync,
  constants,
  fdatasync,
  fchmodSync,
  fsyncSync,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CliError } from './io.js';
import { sweepTempsFor, tempPathFor, trackTemp, untrackTemp } from './temp.js';

/** Bytes gathered before one write to stdout: large enough that syscalls vanish from the profile. */
export const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Bytes gathered before one write to a file (16 frames of 64 KiB): few syscalls, and a batch
 * small enough to stay in cache until write(2) copies it out. Measured on 128 MiB --out
 * (issue 16, alternating runs): 4 MiB batches cost 5-15% more CPU than 1 MiB or 256 KiB ones.
 * At least a read's frames (file-pump.ts: 256 KiB of input) must fit, for updateInto.
 */
export const FILE_BATCH_BYTES = 1024 * 1024;

/**
 * With early writeback on, the file's data is pushed towards the disk (an `fdatasync` on the
 * thread pool, one at a time) every this many bytes written, while the main thread goes on: the
 * fsync of `commit()` then has only the tail to wait for. 128 MiB here: that final fsync took
 * 88-117 ms, and 1-7 ms after early writeback (`strace -T`).
 */
export const WRITEBACK_BYTES = 16 * 1024 * 1024;

/** A writable over an open descriptor that writes in batches of FILE_BATCH_BYTES. */
export class BatchedFdWriter extends Writable {
  /** Made on the first buffered write (a file that fails before any byte costs nothing). */
  #buf: Buffer | undefined;
  #used = 0;
  /** How much of #buf has ever held bytes: all that needs wiping (a batch of 120 failed files once spent seconds wiping 4 MiB each). */
  #dirty = 0;
  /** Bytes accepted so far. */
  bytes = 0;
  /** Called after each write to the descriptor with the bytes written so far (a test hook). */
  onWrite: ((written: number) => void) | undefined;
  #written = 0;

  /**
   * @param where what a write error names as its path (`ENVELOPE_IO: <where>: no space left…`):
   *   writeSync's errors carry none.
   */
  constructor(
    readonly fd: number,
    readonly where?: string,
  ) {
    super({ highWaterMark: FILE_BATCH_BYTES });
  }

  /** writeSync, its error naming {@link where}. */
  #writeSync(data: Uint8Array, offset: number, length: number): number {
    try {
      return writeSync(this.fd, data, offset, length);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (this.where !== undefined && err.path === undefined) err.path = this.where;
      throw err;
    }
  }

  #flush(): void {
    let off = 0;
    while (off < this.#used) off += this.#writeSync(this.#buf!, off, this.#used - off);
    this.#wrote(this.#used);
    this.#used = 0;
  }

  #wrote(n: number): void {
    this.#written += n;
    if (n > 0) this.onWrite?.(this.#written);
    if (this.#writeback && this.#written - this.#synced >= WRITEBACK_BYTES && !this.#syncing) {
      this.#synced = this.#written;
      this.#syncing = new Promise((resolve) =>
        fdatasync(this.fd, (e) => {
          // Kept for commit(): Linux reports a writeback error to one sync call per open file,
          // so the final fsync may well succeed after this one failed.
          if (e) this.#writebackError ??= e;
          this.#syncing = undefined;
          resolve();
        }),
      );
    }
  }

  #writeback = false;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  #writebackError: NodeJS.ErrnoException | undefined;

  /** Throws the error of an early writeback, if one failed (the data may not be on the disk). */
  throwIfWritebackFailed(): void {
    if (this.#writebackError) throw this.#writebackError;
  }

  /**
   * Turns on early writeback (see WRITEBACK_BYTES) for a writer driven by the file pump, which
   * awaits {@link settled} before the output is committed or aborted.
   */
  writeBackEarly(): void {
    this.#writeback = true;
  }

  /** True while an early writeback is in flight. */
  get writingBack(): boolean {
    return this.#syncing !== undefined;
  }

  /** Resolves once no early writeback is in flight (none may be when the descriptor closes). */
  async settled(): Promise<void> {
    while (this.#syncing) await this.#syncing;
  }

  /**
   * Takes `chunk` into the batch (or, when the batch is empty and the chunk at least a batch,
   * writes it straight out), writing every batch that fills. Synchronous; throws the write's
   * error. The Writable side and the file pump (file-pump.ts) both come here.
   */
  put(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    let c = 0;
    while (c < chunk.byteLength) {
      if (this.#used === 0 && chunk.byteLength - c >= FILE_BATCH_BYTES) {
        // A large chunk goes straight out, without a copy.
        const n = this.#writeSync(chunk, c, chunk.byteLength - c);
        c += n;
        this.#wrote(n);
        continue;
      }
      const n = Math.min(FILE_BATCH_BYTES - this.#used, chunk.byteLength - c);
      this.#buf ??= Buffer.allocUnsafe(FILE_BATCH_BYTES);
      this.#buf.set(n === chunk.byteLength ? chunk : chunk.subarray(c, c + n), this.#used);
      this.#used += n;
      this.#dirty = Math.max(this.#dirty, this.#used);
      c += n;
      if (this.#used === FILE_BATCH_BYTES) this.#flush();
    }
  }

  /**
   * Room for `n` bytes at the end of the batch, writing the batch out first if it has less: the
   * batch buffer and the offset to fill from, then {@link filled} with how many were written
   * there. Undefined if `n` is more than a batch holds (then {@link put} a buffer instead).
   */
  reserve(n: number): { buf: Buffer; offset: number } | undefined {
    if (n > FILE_BATCH_BYTES) return undefined;
    if (FILE_BATCH_BYTES - this.#used < n) this.#flush();
    this.#buf ??= Buffer.allocUnsafe(FILE_BATCH_BYTES);
    return { buf: this.#buf, offset: this.#used };
  }

  /** `n` bytes were written into the batch at the offset {@link reserve} gave. */
  filled(n: number): void {
    this.bytes += n;
    this.#used += n;
    this.#dirty = Math.max(this.#dirty, this.#used);
    if (this.#used === FILE_BATCH_BYTES) this.#flush();
  }

  /** Writes out what the batch holds (synchronous; throws the write's error). */
  flush(): void {
    if (this.#used > 0) this.#flush();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      this.put(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    try {
      this.#flush();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // The buffer may hold plaintext: wipe what was ever written to it.
    this.#buf?.fill(0, 0, this.#dirty);
    this.#buf = undefined;
    cb(err);
  }
}

export interface OutputOptions {
  /** Refuse to replace an existing file. */
  noOverwrite?: boolean;
  /** Mode of the file when it appears (default 0600). */
  mode?: number;
}

/**
 * Checks, before any work, that `file` can be written: its directory exists and is one, the
 * name is not a directory, and with `noOverwrite` nothing is there. Throws a coded error.
 */
export function checkOutputPath(file: string, options: OutputOptions = {}): void {
  const dir = path.dirname(file);
  let d;
  try {
    d = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError('ENVELOPE_OUTPUT', `${file}: the directory ${dir} does not exist`);
    throw new CliError('ENVELOPE_OUTPUT', `${file}: cannot use the directory ${dir} (${code})`);
  }
  if (!d.isDirectory()) throw new CliError('ENVELOPE_OUTPUT', `${file}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new CliError('ENVELOPE_OUTPUT', `${file}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code})`);
  }
  let existing;
  try {
    // Not followed: the finished output is renamed over this name, so a link would be replaced,
    // not written through, and a device or FIFO replaced by a file (as root, /dev/null itself).
    existing = lstatSync(file);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory()) throw new CliError('ENVELOPE_OUTPUT', `${file}: is a directory; give a file name`);
  if (existing?.isSymbolicLink()) {
    throw new CliError(
      'ENVELOPE_SYMLINK',
      `${file}: is a symbolic link; the output would replace the link, so name the file it points to (or leave out --out to write to stdout)`,
    );
  }
  if (existing && !existing.isFile()) {
    throw new CliError(
      'ENVELOPE_OUTPUT',
      `${file}: is ${kindOf(existing)}, not a regular file; --out writes a new file and renames it into place (leave out --out and redirect stdout instead)`,
    );
  }
  if (existing && options.noOverwrite) throw new CliError('ENVELOPE_EXISTS', `${file}: already exists (--no-overwrite)`);
}

/** What a non-regular, non-directory file is, for an error message. */
function kindOf(s: Stats): string {
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A file output being written: the temporary's writer, then commit or abort. */
export interface FileOutput {
  readonly file: string;
  readonly temp: string;
  readonly writer: BatchedFdWriter;
  /** fsync, then rename (or, with noOverwrite, link) into place; fsync the directory. */
  commit(): void;
  /** Removes the temporary. Idempotent. */
  abort(): void;
}

/**
 * Opens the private temporary for `file` (after {@link checkOutputPath}), removing stale
 * temporaries a killed run left for the same name. An unwritable directory fails here, before
 * any work.
 */
export function openFileOutput(file: string, options: OutputOptions = {}): FileOutput {
  checkOutputPath(file, options);
  sweepTempsFor(file);
  const temp = tempPathFor(file);
  let fd: number;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError('ENVELOPE_OUTPUT', `${file}: cannot create a file in ${path.dirname(file)} (${code})`);
  }
  trackTemp(temp, fd);
  const writer = new BatchedFdWriter(fd, file);
  let open = true;
  const close = (): void => {
    if (open) {
      open = false;
      closeSync(fd);
    }
  };
  return {
    file,
    temp,
    writer,
    commit() {
      // Everything reaches the file, and the batch buffer (plaintext, for a decrypt) is wiped: the
      // stream path's writer did both when it finished; the file pump's is flushed and ended here.
      writer.flush();
      writer.destroy();
      if (options.mode !== undefined && (fstatSync(fd).mode & 0o7777) !== options.mode) {
        // Through the descriptor we created: never a path someone could swap.
        fchmodSync(fd, options.mode);
      }
      writer.throwIfWritebackFailed();
      fsyncSync(fd);
      close();
      if (options.noOverwrite) {
        try {
          linkSync(temp, file); // fails with EEXIST instead of replacing a file that appeared meanwhile
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST')
            throw new CliError('ENVELOPE_EXISTS', `${file}: already exists (--no-overwrite)`);
          throw e;
        }
        unlinkSync(temp);
      } else {
        renameSync(temp, file);
      }
      untrackTemp(temp);
      fsyncDir(path.dirname(file));
    },
    abort() {
      writer.destroy();
      try {
        close();
      } catch {
        // already closed
      }
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
      untrackTemp(temp);
    },
  };
}

/** Makes a rename durable: fsync the directory that holds it. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
