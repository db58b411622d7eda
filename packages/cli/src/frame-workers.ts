/**
 * Frames on worker threads for large files (issue 16), on request: with ENVELOPE_FRAME_WORKERS=N
 * (N ≥ 1), an input file of at least PARALLEL_MIN_BYTES has its frames sealed or opened on N
 * worker threads (a FramePool from @envelope/core, one per process) while the main thread reads,
 * writes and, for signed suites, hashes in order. The pool starts before the keyring loads, so
 * the workers boot meanwhile; idle workers never keep the process alive, and the command closes
 * the pool when it ends (each worker wipes the keys it still holds).
 *
 * Off by default: measured as whole processes on the 2-core machine the project runs on
 * (bench/cases/86-cli-parallel.mjs, docs/benchmarks.md), the pool did not pay at any size from
 * 1 to 128 MiB. A worker costs about 130 ms of CPU to boot, and the batches 35-45% more CPU and
 * 50-60 MiB more memory than the main thread alone (fresh pages for each batch's output), which
 * a second core wins back only when it is otherwise idle. ENVELOPE_FRAME_WORKERS=0 (or unset)
 * keeps every frame on the main thread; ENVELOPE_FRAME_WORKERS_MIN_BYTES=N moves the threshold.
 */
import { stat } from 'node:fs/promises';
import { FramePool, type ParallelOptions } from '@envelope/core';
import { CliError } from './io.js';

/** Smallest input file whose frames go to worker threads (when ENVELOPE_FRAME_WORKERS asks for them). */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;

let pool: FramePool | undefined;

function count(env: NodeJS.ProcessEnv, name: string, max: number): number | undefined {
  const setting = env[name];
  if (setting === undefined || setting === '') return undefined;
  const n = Number(setting);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new CliError('ENVELOPE_CONFIG', `${name}: expected an integer 0..${max}`);
  return n;
}

/** The frame pool for this input file, or undefined (workers not asked for, stdin, or a small file). */
export async function framePoolFor(input: string | undefined, env: NodeJS.ProcessEnv): Promise<ParallelOptions | undefined> {
  if (input === undefined || input === '-') return undefined;
  const workers = count(env, 'ENVELOPE_FRAME_WORKERS', 64);
  const min = count(env, 'ENVELOPE_FRAME_WORKERS_MIN_BYTES', Number.MAX_SAFE_INTEGER) ?? PARALLEL_MIN_BYTES;
  if (!workers) return undefined;
  const size = (await stat(input).catch(() => undefined))?.size ?? 0;
  if (!(size >= min)) return undefined;
  pool ??= new FramePool({ workers }).warm();
  return { pool };
}

/** Ends the frame workers, if any started (every batch is done by the time a command returns). */
export async function closeFramePool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}
