/**
 * A pool of worker threads that seal and open batches of frames. Frames are independent under one
 * derived key (the IV is the sequence number: (spec: client-apis/encrypt.md#construct-a-frame)), so
 * batches can run on other cores while the main thread reads, writes and, for signed suites, hashes
 * in order.
 *
 * Workers start on first use and are unreferenced while idle, so an idle pool never keeps a
 * process alive; {@link FramePool.close} ends them: every batch still out fails, each worker
 * wipes the keys it still holds and exits (terminated if it does not within a second).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker as WorkerThread } from 'node:worker_threads';
import { EnvelopeError, invalidArgument } from '../errors.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** The compiled worker beside this file (dist), or in dist when running from source (tests). */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/parallel/frame-worker.js', import.meta.url)
    : new URL('./frame-worker.js', import.meta.url);
}

/**
 * node:worker_threads, loaded on a pool's first use: everything that imports @envelope/core
 * (every CLI start-up) would otherwise load it and its internals for nothing (~4 ms).
 */
function workerClass(): typeof WorkerThread {
  return (createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')).Worker;
}

interface Slot {
  readonly worker: WorkerThread;
  readonly pending: Map<number, { resolve(r: FromWorker): void; reject(e: unknown): void }>;
}

export interface FramePoolOptions {
  /**
   * Worker threads. Default: one fewer than the cores available (the calling thread reads,
   * writes and hashes meanwhile), at least 1 and at most 4.
   */
  readonly workers?: number;
}

export class FramePool {
  readonly size: number;
  #slots: Slot[] | undefined;
  #nextJob = 1;
  #nextSession = 1;
  #next = 0;
  #closed = false;
  #broken: Error | undefined;
  readonly #live = new Set<number>();

  constructor(options: FramePoolOptions = {}) {
    const n = options.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    if (!Number.isInteger(n) || n < 1 || n > 64) throw invalidArgument('workers', 'expected an integer 1..64');
    this.size = n;
  }

  /** Starts the workers now (they boot in parallel with whatever the caller does next). */
  warm(): this {
    this.#start();
    return this;
  }

  /** A fresh session number (one per message), live until {@link endSession}. */
  newSession(): number {
    const n = this.#nextSession++;
    this.#live.add(n);
    return n;
  }

  /** Ends a session on every worker: each wipes its copy of the session's key. Idempotent. */
  endSession(session: number): void {
    if (!this.#live.delete(session) || this.#closed || !this.#slots) return;
    for (const s of this.#slots) s.worker.postMessage({ t: 'end', session } satisfies ToWorker);
  }

  /** Sessions begun and not yet ended (each is a message key held on every worker). */
  get liveSessions(): number {
    return this.#live.size;
  }

  /** Sends `m` to every worker (begin/end of a message). `transfer(i)` gives worker i's transfer list. */
  broadcast(make: (i: number) => { message: ToWorker; transfer: ArrayBuffer[] }): void {
    this.#start().forEach((s, i) => {
      const { message, transfer } = make(i);
      s.worker.postMessage(message, transfer);
    });
  }

  /**
   * Runs one batch on the next worker (round robin: batches are the same size). Resolves with the
   * worker's answer, failed batches included (their buffers come back too); rejects only when
   * the worker is gone.
   */
  run(make: (job: number) => { message: ToWorker; transfer: ArrayBuffer[] }): Promise<FromWorker> {
    const slots = this.#start();
    if (this.#broken) return Promise.reject(this.#broken);
    const slot = slots[this.#next++ % slots.length]!;
    const job = this.#nextJob++;
    const { message, transfer } = make(job);
    return new Promise<FromWorker>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(job, { resolve, reject });
      try {
        slot.worker.postMessage(message, transfer);
      } catch (e) {
        // Not sent (a buffer that cannot be transferred): nothing is out, the worker idles again.
        slot.pending.delete(job);
        if (slot.pending.size === 0) slot.worker.unref();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /**
   * Ends the workers. Batches still out fail with ENVELOPE_ABORTED; each worker wipes every key
   * it still holds and exits (one that does not within `graceMs` is terminated). Idempotent.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#live.clear();
    const slots = this.#slots ?? [];
    this.#slots = [];
    const closed = new EnvelopeError('ENVELOPE_ABORTED', 'frame pool closed');
    await Promise.all(
      slots.map(async (s) => {
        for (const p of s.pending.values()) p.reject(closed);
        s.pending.clear();
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        s.worker.postMessage({ t: 'close' } satisfies ToWorker);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), graceMs);
        });
        if ((await Promise.race([exited, late])) === 'late') await s.worker.terminate();
        clearTimeout(timer);
      }),
    );
  }

  #start(): Slot[] {
    if (this.#closed) throw new EnvelopeError('ENVELOPE_ABORTED', 'frame pool closed');
    if (this.#slots) return this.#slots;
    const url = workerUrl();
    const Worker = workerClass();
    this.#slots = Array.from({ length: this.size }, () => {
      const worker = new Worker(url);
      const slot: Slot = { worker, pending: new Map() };
      worker.unref();
      worker.on('message', (r: FromWorker) => {
        const p = slot.pending.get(r.job);
        if (!p) return;
        slot.pending.delete(r.job);
        if (slot.pending.size === 0) worker.unref();
        p.resolve(r);
      });
      const fail = (e: unknown): void => {
        // A worker that dies takes its keys with it; every batch in flight fails, and the pool
        // refuses new work (a half-working pool would be a silent slowdown).
        this.#broken ??= new EnvelopeError('ENVELOPE_INTERNAL', `frame worker failed: ${e instanceof Error ? e.message : String(e)}`);
        for (const p of slot.pending.values()) p.reject(this.#broken);
        slot.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.#closed) fail(new Error(`exited with code ${code}`));
      });
      return slot;
    });
    return this.#slots;
  }
}
