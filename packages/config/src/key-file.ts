/**
 * Reading key files the way ssh reads private keys (finding 15.9): open once without following
 * a symbolic link, check the descriptor's own status (a regular file, owned by this user, no
 * permission for group or others), and read from that same descriptor, so no one can swap the
 * file between the check and the read.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { configError } from './errors.js';

/** Key files are small (an RSA-8192 PEM is ~6.5 KiB); anything larger is not a key file. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Names a file in messages as the configuration gave it. */
const quoted = (file: string): string => JSON.stringify(file);

/**
 * The bytes of a key file, or an `ENVELOPE_CONFIG` error at `at` that says what is wrong. The
 * caller owns the buffer and wipes it.
 *
 * @param file as written in the configuration; relative paths resolve against `baseDir`.
 * @example
 * ```ts
 * const key = await readKeyFile('aes.key', '/etc/app', 'keyring.keyFile');
 * try { use(key); } finally { key.fill(0); }
 * ```
 */
export async function readKeyFile(file: string, baseDir: string, at: string): Promise<Buffer> {
  let fh;
  try {
    // O_NOFOLLOW: a link in the last component fails with ELOOP instead of being followed.
    fh = await open(path.resolve(baseDir, file), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw configError(at, `${quoted(file)} is a symbolic link; give the path of the key file itself`);
    throw configError(at, `cannot read ${quoted(file)} (${code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw configError(at, `${quoted(file)} is not a regular file`);
    const mode = (st.mode & 0o777).toString(8);
    if ((st.mode & 0o044) !== 0) throw configError(at, `${quoted(file)} is readable by group or others (mode ${mode}); chmod 600 it`);
    if ((st.mode & 0o077) !== 0) throw configError(at, `${quoted(file)} is writable by group or others (mode ${mode}); chmod 600 it`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid())
      throw configError(at, `${quoted(file)} is not owned by this user`);
    if (st.size > MAX_KEY_FILE_BYTES) throw configError(at, `${quoted(file)} is too large for a key file (${st.size} bytes)`);
    const bytes = await fh.readFile();
    if (bytes.byteLength > MAX_KEY_FILE_BYTES) {
      bytes.fill(0);
      throw configError(at, `${quoted(file)} is too large for a key file`);
    }
    return bytes;
  } finally {
    await fh.close();
  }
}

/** Whether a file's mode lets group or others read it (for warnings about inline keys). */
export function readableByOthers(mode: number): boolean {
  return (mode & 0o044) !== 0;
}
