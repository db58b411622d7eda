/**
 * Files through the frame workers (frame-workers.ts): the threshold lifted so that small files
 * take the pool, messages read and written the same as on the main thread, failures coded with
 * nothing left behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { aesConfig, run } from './helpers.js';
import { PARALLEL_MIN_BYTES, closeFramePool, framePoolFor } from '../src/frame-workers.js';

const dirs: string[] = [];
afterAll(async () => {
  await closeFramePool();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function scratch(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'envelope-cli-workers-'));
  dirs.push(d);
  return d;
}

const POOL = { ENVELOPE_FRAME_WORKERS: '2', ENVELOPE_FRAME_WORKERS_MIN_BYTES: '0' };
const SERIAL = { ENVELOPE_FRAME_WORKERS: '0' };

describe('frames on worker threads (CLI)', () => {
  for (const suite of ['0x0478', '0x0578']) {
    it(`${suite}: a file sealed on the workers opens on the main thread and the other way round`, async () => {
      const dir = await scratch();
      const f = (n: string) => path.join(dir, n);
      const k = aesConfig();
      const pt = randomBytes(300_000);
      await writeFile(f('pt'), pt);
      const enc = (env: NodeJS.ProcessEnv, out: string) =>
        run(['encrypt', '--keyring', k, '--suite', suite, '--frame-length', '1024', '--in', f('pt'), '--out', f(out)], '', env);
      const dec = (env: NodeJS.ProcessEnv, input: string, out: string) =>
        run(['decrypt', '--keyring', k, '--in', f(input), '--out', f(out)], '', env);
      expect((await enc(POOL, 'par.enc')).code).toBe(0);
      expect((await enc(SERIAL, 'ser.enc')).code).toBe(0);
      // Same layout either way (the bytes differ: a fresh data key per message; a signature's DER
      // encoding varies by a byte or two).
      const [par, ser] = [(await readFile(f('par.enc'))).byteLength, (await readFile(f('ser.enc'))).byteLength];
      if (suite === '0x0478') expect(par).toBe(ser);
      else expect(Math.abs(par - ser)).toBeLessThanOrEqual(2);
      for (const [env, input, out] of [
        [SERIAL, 'par.enc', 'a'],
        [POOL, 'ser.enc', 'b'],
        [POOL, 'par.enc', 'c'],
      ] as const) {
        const r = await dec(env, input, out);
        expect(r.stderr).toBe('');
        expect((await readFile(f(out))).equals(pt)).toBe(true);
      }
    });
  }

  it('a tampered frame read on the workers: coded error, no output, no temporary', async () => {
    const dir = await scratch();
    const f = (n: string) => path.join(dir, n);
    const k = aesConfig();
    await writeFile(f('pt'), randomBytes(200_000));
    expect(
      (await run(['encrypt', '--keyring', k, '--suite', '0x0478', '--frame-length', '1024', '--in', f('pt'), '--out', f('ct')], '', POOL))
        .code,
    ).toBe(0);
    const bad = await readFile(f('ct'));
    bad[Math.floor(bad.byteLength / 2)]! ^= 1;
    await writeFile(f('bad'), bad);
    const r = await run(['decrypt', '--keyring', k, '--in', f('bad'), '--out', f('out')], '', POOL);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_AUTHENTICATION_FAILED: /);
    expect((await readdir(dir)).sort()).toEqual(['bad', 'ct', 'pt']);
  });

  it('ENVELOPE_FRAME_WORKERS must be a count: a coded error otherwise', async () => {
    const dir = await scratch();
    await writeFile(path.join(dir, 'pt'), 'x');
    for (const v of ['-1', 'two', '1.5', '65']) {
      const r = await run(['encrypt', '--keyring', aesConfig(), '--in', path.join(dir, 'pt'), '--out', path.join(dir, 'ct')], '', {
        ENVELOPE_FRAME_WORKERS: v,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^envelope: ENVELOPE_CONFIG: ENVELOPE_FRAME_WORKERS: expected an integer 0\.\.64/);
    }
  });

  it('the pool is asked for, for files of the threshold and more, never stdin, and closes with the command', async () => {
    const dir = await scratch();
    const small = path.join(dir, 'small');
    await writeFile(small, randomBytes(16));
    const big = path.join(dir, 'big');
    await writeFile(big, Buffer.alloc(PARALLEL_MIN_BYTES));
    // Off unless asked for, whatever the size.
    expect(await framePoolFor(big, {})).toBeUndefined();
    expect((await framePoolFor(big, { ENVELOPE_FRAME_WORKERS: '1' }))?.pool.size).toBe(1);
    await closeFramePool();
    expect(await framePoolFor(small, { ENVELOPE_FRAME_WORKERS: '1' })).toBeUndefined();
    expect(await framePoolFor('-', POOL)).toBeUndefined();
    expect(await framePoolFor(undefined, POOL)).toBeUndefined();
    expect(await framePoolFor(small, { ...POOL, ENVELOPE_FRAME_WORKERS: '0' })).toBeUndefined();
    const p = await framePoolFor(small, POOL);
    expect(p?.pool.size).toBe(2);
    // The same pool for the rest of the process, until it is closed.
    expect((await framePoolFor(small, POOL))?.pool).toBe(p?.pool);
    await closeFramePool();
    expect(() => p!.pool.warm()).toThrow(/frame pool closed/);
    expect((await framePoolFor(small, POOL))?.pool).not.toBe(p?.pool);
  });
});
