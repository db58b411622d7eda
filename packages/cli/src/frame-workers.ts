/**
 * Both cores for large files (issue 16): an input file of at least PARALLEL_MIN_BYTES has its
 * frames sealed or opened on worker threads (a FramePool from @envelope/core, one per process),
 * while the main thread reads, writes and, for signed suites, hashes in order. The pool is
 * started before the keyring loads, so the workers boot meanwhile; idle workers never keep the
 * process alive, and the command closes the pool when it ends (each worker wipes the keys it
 * still holds). On a single core the pool is never used unless asked for: it could only add work.
 * The threshold is where bench/cases/86-cli-parallel.mjs finds the pool pays (docs/benchmarks.md).
 *
 * For measurements (bench/cases/86-cli-parallel.mjs): ENVELOPE_FRAME_WORKERS=N sets the number of
 * workers (0: never use them), ENVELOPE_FRAME_WORKERS_MIN_BYTES=N the threshold.
 */
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { FramePool, type ParallelOptions } from '@envelope/core';
import { CliError } from './io.js';

/** Smallest input file whose frames go to worker threads. */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;

let pool: FramePool | undefined;

function count(env: NodeJS.ProcessEnv, name: string, max: number): number | undefined {
  const setting = env[name];
  if (setting === undefined || setting === '') return undefined;
  const n = Number(setting);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new CliError('ENVELOPE_CONFIG', `${name}: expected an integer 0..${max}`);
  return n;
}

/** The frame pool for this input file, or undefined (stdin, a small file, one core, or workers turned off). */
export async function framePoolFor(input: string | undefined, env: NodeJS.ProcessEnv): Promise<ParallelOptions | undefined> {
  if (input === undefined || input === '-') return undefined;
  const workers = count(env, 'ENVELOPE_FRAME_WORKERS', 64);
  const min = count(env, 'ENVELOPE_FRAME_WORKERS_MIN_BYTES', Number.MAX_SAFE_INTEGER) ?? PARALLEL_MIN_BYTES;
  if (workers === 0 || (workers === undefined && availableParallelism() < 2)) return undefined;
  const size = (await stat(input).catch(() => undefined))?.size ?? 0;
  if (!(size >= min)) return undefined;
  pool ??= new FramePool(workers === undefined ? {} : { workers }).warm();
  return { pool };
}

/** Ends the frame workers, if any started (every batch is done by the time a command returns). */
export async function closeFramePool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}
