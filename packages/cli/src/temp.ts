/**
 * Private temporaries: how they are named, tracked and removed.
 *
 * Every output is first written to a temporary beside it, named
 * `.<name>.envelope-<host>-<pid>-<random>.tmp` (0600, created exclusively). The name says whose it
 * is: this machine (a tag of the host name) and the process that made it. So a later run can
 * remove the ones left by a process that was killed (SIGKILL, a crash, a power cut), and only
 * those: a temporary of a process that is still running, of another host (a shared file system)
 * or of another user is left alone, and so is anything that is not a regular file.
 *
 * While this process runs, every temporary it holds is in one registry; SIGINT, SIGTERM, an
 * uncaught error and a normal exit all remove what is left in it (synchronously, so that a
 * signal that ends the process cannot race the cleanup).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
/** Longest part of the output's own name kept in the temporary's name (names are ≤ 255 bytes). */
const MAX_BASE_BYTES = 180;
const TEMP_RE = /^\.(.*)\.envelope-([0-9a-f]{8})-(\d+)-[0-9a-f]{12}\.tmp$/s;

function shortBase(name: string): string {
  let base = name;
  while (Buffer.byteLength(base) > MAX_BASE_BYTES) base = base.slice(0, -1);
  return base;
}

/** The temporary's path for an output at `file` (beside it, so the final rename is atomic). */
export function tempPathFor(file: string): string {
  const name = `.${shortBase(path.basename(file))}.envelope-${HOST_TAG}-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  return path.join(path.dirname(file), name);
}

/** True if `name` is one of our temporaries whose process (on this host) is gone. */
function isStaleTemp(name: string, forBase?: string): boolean {
  const m = TEMP_RE.exec(name);
  if (!m || m[2] !== HOST_TAG) return false;
  if (forBase !== undefined && m[1] !== shortBase(forBase)) return false;
  const pid = Number(m[3]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false; // still running
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function removeIfOurs(file: string): boolean {
  try {
    const s = lstatSync(file);
    const uid = process.getuid?.();
    if (!s.isFile() || (uid !== undefined && s.uid !== uid)) return false;
    unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the stale temporaries a killed run left for the output `file` (its siblings named for
 * it). Returns how many were removed.
 */
export function sweepTempsFor(file: string): number {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) if (isStaleTemp(name, base) && removeIfOurs(path.join(dir, name))) n++;
  return n;
}

/** Removes every stale temporary of ours directly in `dir` (not below it). */
export function sweepTempsIn(dir: string, names: readonly string[]): number {
  let n = 0;
  for (const name of names) if (isStaleTemp(name) && removeIfOurs(path.join(dir, name))) n++;
  return n;
}

/** True if `name` looks like one of our temporaries (live or not): never an input to process. */
export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

const live = new Map<string, number | undefined>();

/** Records a temporary (and its open descriptor) so that any exit removes it. */
export function trackTemp(file: string, fd?: number): void {
  live.set(file, fd);
}

/** The temporary was renamed into place or removed: nothing left to clean. */
export function untrackTemp(file: string): void {
  live.delete(file);
}

/** Removes every tracked temporary now (synchronously). */
export function removeTrackedTemps(): void {
  for (const [file, fd] of live) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
  live.clear();
}

let guarded = false;

/**
 * For the real process (bin/envelope.js): SIGINT and SIGTERM remove the temporaries and exit
 * 130 / 143; any other exit removes them too. In-process callers (tests, applications) do not
 * get signal handlers installed behind their back.
 */
export function installProcessGuards(stderr: NodeJS.WritableStream = process.stderr): void {
  if (guarded) return;
  guarded = true;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM', code: number) => () => {
    removeTrackedTemps();
    try {
      stderr.write(`envelope: ENVELOPE_INTERRUPTED: stopped by ${signal}; nothing partial was left behind\n`);
    } catch {
      // stderr gone
    }
    process.exit(code);
  };
  process.on('SIGINT', onSignal('SIGINT', 130));
  process.on('SIGTERM', onSignal('SIGTERM', 143));
  process.on('exit', removeTrackedTemps);
}
