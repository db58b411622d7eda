/**
 * What --out may name, and the bounds a review found missing (2026-11-27): the finished output
 * is renamed over the name, so a symlink, FIFO or device there is refused rather than replaced
 * (as root, `--out /dev/null` had replaced the device with a file); --frame-length is at most
 * what decrypt accepts by default; an input that grows while it is encrypted to stdout says the
 * output is incomplete.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, lstatSync, openSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_FRAME_LENGTH } from '@envelope/core';
import { aesConfig, run, scratch } from './helpers.js';
import { main } from '../src/main.js';
import { describeError } from '../src/io.js';
import { BatchedFdWriter, WRITEBACK_BYTES } from '../src/output.js';

describe('--out targets', () => {
  it('a symbolic link is refused, the link and its target left as they were', async () => {
    const dir = await scratch('envelope-cli-out-');
    const target = path.join(dir, 'target');
    writeFileSync(target, 'keep me');
    symlinkSync(target, path.join(dir, 'link'));
    const r = await run(['encrypt', '--keyring', aesConfig(), '--out', path.join(dir, 'link')], 'data');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_SYMLINK: .*link: is a symbolic link; .*name the file it points to/);
    expect(lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect((await readdir(dir)).sort()).toEqual(['link', 'target']);
  });

  it('a FIFO (or device) is refused, not replaced by a file', async () => {
    const dir = await scratch('envelope-cli-out-');
    const fifo = path.join(dir, 'fifo');
    const made = spawnSync('mkfifo', [fifo]);
    expect(made.status).toBe(0);
    for (const op of ['encrypt', 'decrypt']) {
      const r = await run([op, '--keyring', aesConfig(), '--out', fifo], 'data');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^envelope: ENVELOPE_OUTPUT: .*fifo: is a FIFO, not a regular file; .*redirect stdout/);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    }
    expect(await readdir(dir)).toEqual(['fifo']);
  });
});

describe('bounds', () => {
  it('--frame-length above what decrypt accepts by default is a usage error', async () => {
    const over = await run(['encrypt', '--keyring', aesConfig(), '--frame-length', String(DEFAULT_MAX_FRAME_LENGTH + 1)], 'x');
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/^envelope: ENVELOPE_USAGE: --frame-length expects an integer from 1 to 67108864\n$/);
    const k = aesConfig();
    const at = await run(['encrypt', '--keyring', k, '--frame-length', String(DEFAULT_MAX_FRAME_LENGTH), '--suite', '0x0478'], 'x');
    expect(at.code).toBe(0);
    expect((await run(['decrypt', '--keyring', k], at.stdout)).stdout.toString()).toBe('x');
  });

  it('an input that grows while encrypted to stdout: the error says stdout got an incomplete message', async () => {
    const r = await encryptChangingFile((file) => appendFileSync(file, randomBytes(1024 * 1024)));
    expect(r.changed).toBe(true);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^envelope: ENVELOPE_INPUT_CHANGED: the input grew while it was being encrypted; stdout got an incomplete message/,
    );
  });
});

describe('an input that shrinks', () => {
  it('while encrypted to stdout: ENVELOPE_INPUT_CHANGED, not exit 0 with a message of part of the file', async () => {
    const r = await encryptChangingFile((file) => truncateSync(file, 1024 * 1024));
    expect(r.changed).toBe(true);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^envelope: ENVELOPE_INPUT_CHANGED: the input shrank while it was being encrypted; stdout got a message of the bytes read/,
    );
  });
});

/**
 * Encrypts a 12 MiB file to stdout in process and calls `change(file)` once, when the first
 * ciphertext comes out: the pump has read part of the file by then.
 */
async function encryptChangingFile(change: (file: string) => void): Promise<{ code: number; err: string; changed: boolean }> {
  const file = path.join(await scratch('envelope-cli-changing-'), 'input');
  writeFileSync(file, randomBytes(12 * 1024 * 1024));
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  let changed = false;
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  stdout.on('data', () => {
    if (!changed) change(file);
    changed = true;
  });
  const code = await main(['encrypt', '--keyring', aesConfig(), '--suite', '0x0478', '--in', file], {
    stdin: Readable.from([]),
    stdout,
    stderr,
    env: {},
  });
  return { code, err, changed };
}

describe('an input whose size says nothing', () => {
  it('a procfs file (size 0, with content) encrypts and decrypts', async () => {
    const k = aesConfig();
    const enc = await run(['encrypt', '--keyring', k, '--in', '/proc/self/status']);
    expect(enc.stderr).toBe('');
    expect(enc.code).toBe(0);
    const dec = await run(['decrypt', '--keyring', k], enc.stdout);
    expect(dec.stdout.toString()).toMatch(/^Name:/);
  });
});

describe('early writeback', () => {
  it('an early fdatasync that failed fails the commit (the final fsync may not see the error again)', async () => {
    // fdatasync on /dev/null fails (EINVAL): a stand-in for a disk's writeback error.
    const fd = openSync('/dev/null', 'w');
    try {
      const w = new BatchedFdWriter(fd);
      w.writeBackEarly();
      w.put(Buffer.alloc(WRITEBACK_BYTES + 1));
      await w.settled();
      expect(() => w.throwIfWritebackFailed()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      w.destroy();
    } finally {
      closeSync(fd);
    }
  });
});

describe('write errors', () => {
  it('name the output they failed on (writeSync gives no path): ENOSPC on /dev/full', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const w = new BatchedFdWriter(fd, '/data/out.enc');
      let caught: unknown;
      try {
        w.put(Buffer.alloc(2 * 1024 * 1024));
      } catch (e) {
        caught = e;
      }
      expect(describeError(caught)).toEqual({
        code: 'ENVELOPE_IO',
        message: '/data/out.enc: no space left on the device (ENOSPC)',
      });
      w.destroy();
    } finally {
      closeSync(fd);
    }
  });
});
