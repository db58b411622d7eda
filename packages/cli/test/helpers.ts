import { afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { main } from '../src/main.js';

/** Runs the CLI in-process with the given stdin; returns exit code, stdout and stderr. */
export async function run(
  argv: string[],
  stdin: Uint8Array | string = '',
  env: NodeJS.ProcessEnv = {},
  tty: { stdout?: boolean; stderr?: boolean } = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = Object.assign(new PassThrough(), tty.stdout ? { isTTY: true } : {});
  const stderr = Object.assign(new PassThrough(), tty.stderr ? { isTTY: true } : {});
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr, env });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

/** A raw AES keyring configuration (inline JSON) with a fresh key. */
export const aesConfig = (name = 'key-1', key = randomBytes(32)): string =>
  JSON.stringify({ type: 'raw-aes', namespace: 'cli-test', name, key: key.toString('base64') });

const BIN = fileURLToPath(new URL('../bin/envelope.js', import.meta.url));

/** The real launcher; fails (never skips) when the CLI has not been built. */
export function bin(): string {
  if (!existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)))) {
    throw new Error('packages/cli/dist is missing: build first (npm test runs tsc -b before vitest)');
  }
  return BIN;
}

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stderr line matching `re` (or rejects if the process exits first). */
  line(re: RegExp): Promise<string>;
  /** Resolves with the n-th (from 1) stderr line matching `re` (or rejects if the process exits first). */
  nth(re: RegExp, n: number): Promise<string>;
  /** Resolves once the process has exited: code, signal, all stdout and stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>;
}

/** Spawns the real `envelope` with ENVELOPE_DEBUG_EVENTS=1, so tests can act at known points. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, options: { uid?: number; gid?: number } = {}): Spawned {
  const child = spawn(process.execPath, [bin(), ...args], {
    env: { ...process.env, ENVELOPE_DEBUG_EVENTS: '1', ...env },
    ...options,
  });
  const out: Buffer[] = [];
  let err = '';
  const lines: string[] = [];
  const waiters: { re: RegExp; n: number; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  child.stdout.on('data', (c: Buffer) => out.push(c));
  // The child may exit (a signal, an error) before it read all the input a test offers it.
  child.stdin.on('error', () => {});
  child.stderr.on('data', (c: Buffer) => {
    const before = err;
    err += c.toString();
    const fresh = err.slice(before.lastIndexOf('\n') + 1).split('\n');
    for (const l of fresh.slice(0, -1)) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l) && count(w.re) >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`exited (${code ?? signal}) before a line matching ${w.re}; stderr: ${err}`));
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    }),
  );
  const nth = (re: RegExp, n: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const seen = lines.filter((l) => re.test(l));
      if (seen.length >= n) resolve(seen[n - 1]!);
      else waiters.push({ re, n, resolve, reject });
    });
  return { child, exited, nth, line: (re) => nth(re, 1) };
}

const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A scratch directory under the system's temporary directory, removed after the test file. */
export async function scratch(prefix: string): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), prefix));
  scratchDirs.push(d);
  return d;
}
