/**
 * Batches in flight on a frame pool, released in the order they were sent (a message's frames
 * must leave in sequence, and a signature covers them in sequence) however they finish.
 */
import { invalidArgument } from '../errors.js';
import type { FramePool } from './frame-pool.js';

/** How a stream uses a {@link FramePool}. */
export interface ParallelOptions {
  /** The pool that seals or opens the frames. */
  readonly pool: FramePool;
  /** Plaintext bytes per batch, rounded down to whole frames (at least one). Default 1 MiB. */
  readonly batchBytes?: number;
  /** Batches out at once before the stream waits for the oldest. Default: two per worker. */
  readonly maxInFlight?: number;
}

export const DEFAULT_BATCH_BYTES = 1024 * 1024;

/** Frames per batch for this frame length. */
export function batchFrames(o: ParallelOptions, frameLength: number): number {
  const bytes = o.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw invalidArgument('batchBytes', 'expected a positive integer');
  return Math.max(1, Math.floor(bytes / frameLength));
}

interface Entry<T> {
  readonly promise: Promise<T>;
  settled: boolean;
}

export class InOrder<T> {
  readonly #max: number;
  #queue: Entry<T>[] = [];

  constructor(o: ParallelOptions, workers: number) {
    const max = o.maxInFlight ?? 2 * workers;
    if (!Number.isInteger(max) || max < 1) throw invalidArgument('maxInFlight', 'expected a positive integer');
    this.#max = max;
  }

  /** Adds the next batch. Its failure is reported when its turn comes (never as an unhandled rejection). */
  add(promise: Promise<T>): void {
    const e: Entry<T> = { promise, settled: false };
    const settle = (): void => {
      e.settled = true;
    };
    promise.then(settle, settle);
    this.#queue.push(e);
  }

  /**
   * The batches that may be released now, in order: every finished one at the head of the queue,
   * after waiting for the oldest while too many are in flight. Throws the first failure in order.
   */
  async ready(): Promise<T[]> {
    const out: T[] = [];
    while (this.#queue.length >= this.#max) out.push(await this.#shift());
    while (this.#queue[0]?.settled) out.push(await this.#shift());
    return out;
  }

  /** Every batch still out, in order. */
  async all(): Promise<T[]> {
    const out: T[] = [];
    while (this.#queue.length) out.push(await this.#shift());
    return out;
  }

  /** Forgets the batches still out (the stream is gone; their results are dropped). */
  abandon(): void {
    this.#queue = [];
  }

  #shift(): Promise<T> {
    return this.#queue.shift()!.promise;
  }
}
