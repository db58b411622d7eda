/**
 * Both cores for large files (issue 16): an input file of at least PARALLEL_MIN_BYTES has its
 * frames sealed or opened on worker threads (a FramePool from @envelope/core, one per process),
 * while the main thread reads, writes and, for signed suites, hashes in order. The pool is
 * started before the keyring loads, so the workers boot meanwhile; idle workers never keep the
 * process alive. The threshold is where bench/cases/86-cli-parallel.mjs finds the pool pays.
 *
 * For measurements (bench/cases/86-cli-parallel.mjs): ENVELOPE_FRAME_WORKERS=N sets the number of
 * workers (0: never use them), ENVELOPE_FRAME_WORKERS_MIN_BYTES=N the threshold.
 */
import { stat } from 'node:fs/promises';
import { FramePool, type ParallelOptions } from '@envelope/core';
import { CliError } from './io.js';

/** Smallest input file whose frames go to worker threads. */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;

let pool: FramePool | undefined;

/** The frame pool for this input file, or undefined (stdin, a small file, or workers turned off). */
export async function framePoolFor(input: string | undefined, env: NodeJS.ProcessEnv): Promise<ParallelOptions | undefined> {
  if (input === undefined || input === '-') return undefined;
  const setting = env['ENVELOPE_FRAME_WORKERS'];
  const workers = setting === undefined || setting === '' ? undefined : Number(setting);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64)) {
    throw new CliError('ENVELOPE_CONFIG', 'ENVELOPE_FRAME_WORKERS: expected an integer 0..64');
  }
  if (workers === 0) return undefined;
  const min = Number(env['ENVELOPE_FRAME_WORKERS_MIN_BYTES'] || PARALLEL_MIN_BYTES);
  const size = (await stat(input).catch(() => undefined))?.size ?? 0;
  if (!(size >= min)) return undefined;
  pool ??= new FramePool(workers === undefined ? {} : { workers }).warm();
  return { pool };
}
