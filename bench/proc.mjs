// Whole-process measurements: run commands as a user's shell would, interleaved run by run, and
// report medians. Wall time is taken here around spawn → exit; CPU time and peak RSS come from
// GNU time (/usr/bin/time) wrapped around the command when `rss` is asked for, because a child
// forked straight from this (large) process would inherit our high-water mark (see rss.mjs):
// `time` is small, and the command is forked from it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEY, median } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
/** The CLI as `npx envelope` runs it (the launcher, then dist/main.js). */
export const ENVELOPE = path.join(root, 'packages', 'cli', 'bin', 'envelope.js');
/**
 * A frozen build to compare against in the same run (bench/snapshot.mjs): its CLI, or undefined.
 * Cases that support it add rows named "baseline …" interleaved with the current build's.
 */
export const BASELINE = process.env.ENVELOPE_BENCH_BASELINE
  ? path.join(path.resolve(process.env.ENVELOPE_BENCH_BASELINE), 'packages', 'cli', 'bin', 'envelope.js')
  : undefined;
/** The CLIs to measure: this build's, then the baseline's when one is given. */
export const CLIS = [{ prefix: '', cli: ENVELOPE }, ...(BASELINE ? [{ prefix: 'baseline ', cli: BASELINE }] : [])];
const TIME = '/usr/bin/time';
export const haveTime = existsSync(TIME);

/** `node <script> …` in bench/ (the SDK and floor sides of the whole-process cases). */
export const benchScript = (name) => path.join(here, name);

/** Environment for every child: the SDK's Node-version warning off (it is noise on stderr). */
export const childEnv = (extra = {}) => ({ ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra });

/**
 * One run of `cmd args`. stdin/stdout are file paths (or undefined: /dev/null in, a pipe we drain
 * out). Resolves with wall ms, and with `rss`: peak RSS bytes and CPU ms (user + system). A run
 * past `timeoutMs` is killed and reported (a bench never hangs on a stuck command).
 */
/**
 * @typedef {object} RunOptions
 * @property {string} [stdin] a file to read stdin from (default /dev/null)
 * @property {string} [stdout] a file to write stdout to (default: a pipe we drain)
 * @property {NodeJS.ProcessEnv} [env] default {@link childEnv}()
 * @property {boolean} [rss] measure peak RSS and CPU with GNU time
 * @property {string} [cwd]
 * @property {number} [timeoutMs] default 300 s
 */
/**
 * @typedef {{ wall: number, code: number | null, signal: NodeJS.Signals | null, stderr: string, outBytes: number, peakRss?: number, cpu?: number }} RunResult
 */

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {RunOptions} [options]
 * @returns {Promise<RunResult>}
 */
export function runOnce(cmd, args, { stdin, stdout, env, rss = false, cwd, timeoutMs = 300_000 } = {}) {
  const stats =
    rss && haveTime ? path.join(tmpdir(), `envelope-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`) : undefined;
  const argv = stats ? [TIME, '-f', '%M %U %S', '-o', stats, cmd, ...args] : [cmd, ...args];
  const inFd = openSync(stdin ?? '/dev/null', 'r');
  const outFd = stdout === undefined ? 'pipe' : openSync(stdout, 'w');
  return new Promise((resolve) => {
    const t0 = performance.now();
    // Its own process group, so that a timeout ends the command as well as GNU time around it.
    const child = spawn(/** @type {string} */ (argv[0]), argv.slice(1), {
      stdio: [inFd, outFd, 'pipe'],
      env: env ?? childEnv(),
      cwd,
      detached: true,
    });
    let err = '';
    let outBytes = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    child.stdout?.on('data', (b) => (outBytes += b.length));
    child.stderr?.on('data', (b) => (err.length < 4096 ? (err += b) : undefined));
    child.on('close', (code, signal) => {
      const wall = performance.now() - t0;
      clearTimeout(timer);
      closeSync(inFd);
      if (typeof outFd === 'number') closeSync(outFd);
      /** @type {RunResult} */
      const r = { wall, code, signal, stderr: timedOut ? `timed out after ${timeoutMs} ms` : err.trim(), outBytes };
      if (stats) {
        try {
          const [maxKb = NaN, user = NaN, sys = NaN] = (readFileSync(stats, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
          Object.assign(r, { peakRss: maxKb * 1024, cpu: (user + sys) * 1000 });
        } catch {
          // time could not write its line (the command did not start): no RSS for this run.
        }
        rmSync(stats, { force: true });
      }
      resolve(r);
    });
  });
}

/**
 * Runs every command `runs` times, one of each per round (in order, so that no command always
 * follows the same neighbour's cache state more than another), after `warmup` rounds that are
 * discarded. Each command is `{ name, cmd, args, stdin, stdout, env, rss, before, check }`;
 * `before()` runs untimed before each run (e.g. removing an output), `check(result)` after
 * the first one (throws when the output is wrong). A command whose run fails is reported with
 * its error and not timed again.
 */
export async function interleave(commands, { runs, warmup = 1 }) {
  const acc = new Map(commands.map((c) => [c.name, { wall: [], cpu: [], rss: [], error: undefined }]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const c of commands) {
      const a = acc.get(c.name);
      if (a.error) continue;
      await c.before?.();
      const r = await runOnce(c.cmd, c.args, c);
      if (r.code !== 0) {
        a.error = `exit ${r.code ?? r.signal}: ${(r.stderr.split('\n')[0] ?? '').slice(0, 300)}`;
        continue;
      }
      if (round === 0 && c.check) {
        try {
          await c.check(r);
        } catch (e) {
          a.error = `wrong output: ${e instanceof Error ? e.message : String(e)}`;
          continue;
        }
      }
      if (round < warmup) continue;
      a.wall.push(r.wall);
      if (r.cpu !== undefined) a.cpu.push(r.cpu);
      if (r.peakRss !== undefined) a.rss.push(r.peakRss);
    }
  }
  const out = {};
  for (const [name, a] of acc) {
    out[name] = a.error
      ? { error: a.error }
      : {
          wall: median(a.wall),
          min: Math.min(...a.wall),
          max: Math.max(...a.wall),
          runs: a.wall.length,
          ...(a.cpu.length ? { cpu: median(a.cpu) } : {}),
          ...(a.rss.length ? { peakRss: Math.max(...a.rss) } : {}),
        };
  }
  return out;
}

/** `a / b` for two interleave entries' medians (undefined when either failed). */
export const wallRatio = (a, b) => (a?.wall !== undefined && b?.wall !== undefined ? a.wall / b.wall : undefined);

/** A raw-AES keyring configuration (the benches' KEY) in a 0600 file, in a fresh temporary directory. */
export function rawKeyringFixture(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const keyring = path.join(dir, 'keyring.json');
  writeFileSync(keyring, JSON.stringify({ type: 'raw-aes', namespace: 'bench', name: 'aes', key: KEY.toString('base64') }), {
    mode: 0o600,
  });
  return { dir, keyring };
}

/** Writes `size` random bytes to `file` in 8 MiB pieces (nothing of `size` held here). */
export function writeRandomFile(file, size) {
  const piece = Buffer.allocUnsafe(Math.min(size, 8 << 20));
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(piece.length, size - done);
      randomFillSync(piece, 0, n);
      writeSync(fd, piece, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Throws unless the two files hold the same bytes (compared in 8 MiB pieces). */
export function assertSameFile(a, b) {
  const [fa, fb] = [openSync(a, 'r'), openSync(b, 'r')];
  try {
    const [x, y] = [Buffer.allocUnsafe(8 << 20), Buffer.allocUnsafe(8 << 20)];
    for (let pos = 0; ;) {
      const n = readSync(fa, x, 0, x.length, pos);
      const m = readSync(fb, y, 0, y.length, pos);
      if (n !== m || !x.subarray(0, n).equals(y.subarray(0, m)))
        throw new Error(`${path.basename(b)} differs from ${path.basename(a)} near byte ${pos}`);
      if (n === 0) return;
      pos += n;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}
