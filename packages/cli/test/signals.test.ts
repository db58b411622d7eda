// The real `envelope` process under signals, broken pipes and a terminal. Each test acts at a
// known point: the child reads a message from a pipe the test feeds only partly, reports its
// temporaries on stderr (ENVELOPE_DEBUG_EVENTS=1), and waits for more input; the signal is sent
// then. Nothing sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { readlinkSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { encrypt } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { bin, run, spawnCli } from './helpers.js';

const MiB = 1024 * 1024;
let dir: string;
let keyFile: string;
let keyring: RawAesKeyring;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'envelope-signals-'));
  const key = randomBytes(32);
  keyring = new RawAesKeyring({ keyNamespace: 'sig', keyName: 'k', wrappingKey: key });
  keyFile = path.join(dir, 'k.json');
  await writeFile(keyFile, JSON.stringify({ type: 'raw-aes', namespace: 'sig', name: 'k', key: key.toString('base64') }), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function message(size: number, suite: number): Promise<{ plaintext: Buffer; ciphertext: Buffer }> {
  const plaintext = randomBytes(size);
  const { ciphertext } = await encrypt(plaintext, { keyring, suite, frameLength: 65536 });
  return { plaintext, ciphertext: Buffer.from(ciphertext) };
}

/** The names in `d`, without the key file. */
const listing = async (d: string) => (await readdir(d)).filter((n) => n !== 'k.json').sort();

describe('signals: nothing partial is left behind', () => {
  it('15.4: SIGINT during decrypt --out of an unsigned message removes the temporary that held plaintext; exit 130', async () => {
    const work = await mkdtemp(path.join(dir, 'int-'));
    const { plaintext, ciphertext } = await message(12 * MiB, 0x0478);
    const p = spawnCli(['decrypt', '--keyring', keyFile, '--out', path.join(work, 'plain.out')]);
    p.child.stdin.write(ciphertext.subarray(0, 9 * MiB));
    const temp = (await p.line(/^envelope: debug: temp /)).replace('envelope: debug: temp ', '');
    await p.line(/^envelope: debug: wrote /);
    // The finding: the temporary holds authenticated plaintext decrypted so far.
    const held = await readFile(temp);
    expect(held.byteLength).toBeGreaterThan(0);
    expect(held.equals(plaintext.subarray(0, held.byteLength))).toBe(true);
    expect(statSync(temp).mode & 0o777).toBe(0o600);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_INTERRUPTED: stopped by SIGINT/m);
    expect(await listing(work)).toEqual([]);
  });

  it('SIGTERM during encrypt --out removes the temporary; exit 143', async () => {
    const work = await mkdtemp(path.join(dir, 'term-'));
    const p = spawnCli(['encrypt', '--keyring', keyFile, '--out', path.join(work, 'c.enc')]);
    p.child.stdin.write(randomBytes(6 * MiB));
    await p.line(/^envelope: debug: wrote /);
    expect((await listing(work)).length).toBe(1);
    p.child.kill('SIGTERM');
    const r = await p.exited;
    expect(r.code).toBe(143);
    expect(await listing(work)).toEqual([]);
  });

  it('after SIGKILL the stale temporary stays, and the next run to the same path removes it', async () => {
    const work = await mkdtemp(path.join(dir, 'kill-'));
    const { plaintext, ciphertext } = await message(8 * MiB, 0x0478);
    const out = path.join(work, 'plain.out');
    const p = spawnCli(['decrypt', '--keyring', keyFile, '--out', out]);
    p.child.stdin.write(ciphertext.subarray(0, 6 * MiB));
    await p.line(/^envelope: debug: wrote /);
    p.child.kill('SIGKILL');
    expect((await p.exited).signal).toBe('SIGKILL');
    const left = await listing(work);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.plain\.out\.envelope-[0-9a-f]{8}-\d+-[0-9a-f]{12}\.tmp$/);
    const again = await run(['decrypt', '--keyring', keyFile, '--out', out], ciphertext);
    expect(again.stderr).toBe('');
    expect(await listing(work)).toEqual(['plain.out']);
    expect((await readFile(out)).equals(plaintext)).toBe(true);
  });

  it('SIGINT while a signed message is spooled for stdout: the spool was never visible and is gone', async () => {
    const spoolDir = await mkdtemp(path.join(dir, 'spool-'));
    const { ciphertext } = await message(10 * MiB, 0x0578);
    const p = spawnCli(['decrypt', '--keyring', keyFile], { TMPDIR: spoolDir });
    p.child.stdin.write(ciphertext.subarray(0, 7 * MiB));
    await p.line(/^envelope: debug: spool stdout/);
    // Nothing to open by name; the open descriptor is a deleted, private file in TMPDIR.
    expect(readdirSync(spoolDir)).toEqual([]);
    const fds = readdirSync(`/proc/${p.child.pid}/fd`).map((fd) => `/proc/${p.child.pid}/fd/${fd}`);
    const spool = fds.find((f) => readlinkSync(f).startsWith(`${spoolDir}/`));
    expect(spool && readlinkSync(spool)).toMatch(/\(deleted\)$/);
    expect(statSync(spool!).mode & 0o777).toBe(0o600);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code).toBe(130);
    expect(r.stdout.byteLength).toBe(0);
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});

describe('broken pipes', () => {
  for (const op of ['encrypt', 'decrypt'] as const) {
    it(`${op} to a pipe whose reader went away: a coded ENVELOPE_BROKEN_PIPE, exit 1`, async () => {
      const input = op === 'encrypt' ? randomBytes(8 * MiB) : (await message(8 * MiB, 0x0478)).ciphertext;
      const p = spawnCli([op, '--keyring', keyFile]);
      p.child.stdout.destroy(); // the reader is gone before anything was written
      p.child.stdin.end(input);
      const r = await p.exited;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^envelope: ENVELOPE_BROKEN_PIPE: /m);
      expect(r.stderr).not.toMatch(/EPIPE\b(?!\))|at .*\.js:\d+/);
    });
  }
});

describe('the last resort', () => {
  it('an error that escapes every command is still "envelope: ENVELOPE_INTERNAL: message", never a stack', async () => {
    // A module preloaded into the real process makes the command's first write throw later, from
    // outside any command (so only the launcher's last-resort handler can catch it).
    const thrower = path.join(dir, 'throw-later.cjs');
    await writeFile(
      thrower,
      "process.stdout.write = () => { setImmediate(() => { throw new TypeError('escaped\\n    at somewhere (file.js:1:1)'); }); return true; };\n",
    );
    const p = spawnCli(['--help'], { NODE_OPTIONS: `--require ${thrower}` });
    const r = await p.exited;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('envelope: ENVELOPE_INTERNAL: escaped\n');
  });
});

describe('a terminal', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it('encrypt refuses to write ciphertext to a terminal, with a coded error that suggests --out', async () => {
    expect(hasScript, 'the script(1) command (util-linux) gives the child a terminal').toBe(true);
    const input = path.join(dir, 'tty-in.txt');
    await writeFile(input, 'secret');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = [process.execPath, bin(), 'encrypt', '--keyring', keyFile, '--in', input].map(q).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/envelope: ENVELOPE_TTY: refusing to write binary ciphertext to a terminal; use --out FILE/);
    expect((await stat(input)).size).toBe(6);
  });
});
