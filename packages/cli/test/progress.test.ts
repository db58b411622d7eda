import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../src/main.js';
import { PROGRESS_MIN_BYTES } from '../src/commands/encrypt.js';

/** Runs the CLI in-process with stderr that says it is (or is not) a terminal. */
async function runWithStderr(argv: string[], isTTY: boolean): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY });
  const err: Buffer[] = [];
  stdout.resume();
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin: Readable.from([]), stdout, stderr, env: {} });
  return { code, stderr: Buffer.concat(err).toString() };
}

describe('encrypt/decrypt progress on a terminal', () => {
  const keyring = JSON.stringify({ type: 'raw-aes', namespace: 'ns', name: 'k', key: randomBytes(32).toString('base64') });

  it('shows a progress bar ending at 100% for a large file when stderr is a TTY, nothing otherwise', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-progress-'));
    try {
      const input = path.join(dir, 'big.bin');
      const data = randomBytes(PROGRESS_MIN_BYTES + 123);
      await writeFile(input, data);
      const tty = await runWithStderr(['encrypt', '--keyring', keyring, '--in', input, '--out', path.join(dir, 'big.enc')], true);
      expect(tty.code).toBe(0);
      expect(tty.stderr).toMatch(/\r\[#{24}\] 100% 1\/1 file, 4\.0 MiB\/4\.0 MiB/);
      expect(tty.stderr.endsWith('\n')).toBe(true);
      const back = await runWithStderr(
        ['decrypt', '--keyring', keyring, '--in', path.join(dir, 'big.enc'), '--out', path.join(dir, 'big.out')],
        true,
      );
      expect(back.code).toBe(0);
      expect(back.stderr).toContain('100% 1/1 file');
      expect(Buffer.compare(await readFile(path.join(dir, 'big.out')), data)).toBe(0);

      const quiet = await runWithStderr(['encrypt', '--keyring', keyring, '--in', input, '--out', path.join(dir, 'big2.enc')], false);
      expect(quiet.code).toBe(0);
      expect(quiet.stderr).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stays silent for small files even on a TTY', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-progress-'));
    try {
      const input = path.join(dir, 'small.bin');
      await writeFile(input, randomBytes(1000));
      const r = await runWithStderr(['encrypt', '--keyring', keyring, '--in', input, '--out', path.join(dir, 'small.enc')], true);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
