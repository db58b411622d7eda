/**
 * Single-flight: at most one load per key at a time. Callers that arrive while a load runs join
 * it instead of starting their own; when it settles, every caller is served **synchronously and
 * in arrival order**, so whoever hands out uses of the fresh result (the caching manager: one
 * message per caller, counted against its limits) does so atomically: no other request can slip
 * in between two callers of one flight.
 *
 * - A caller whose `serve` returns {@link RETRY} (the result cannot serve it, e.g. the data key's
 *   message limit is used up), and every caller after it, join a new flight led by the first of
 *   them. Each flight serves at least its leader, so this always terminates.
 * - A failed load rejects every caller with the same error; nothing is kept.
 * - A caller's `AbortSignal` only removes that caller. The load itself gets a signal that fires
 *   when every caller has left: one impatient caller cannot fail the others.
 */
import { abortedError } from '@envelope/core';

/** Returned by {@link FlightCaller.serve} when the result cannot serve this caller. */
export const RETRY: unique symbol = Symbol('single-flight: retry');

/** One caller of {@link SingleFlight.join}. */
export interface FlightCaller<T, R> {
  /** Starts the load when this caller leads a flight; `signal` fires when every caller has left. */
  readonly load: (signal: AbortSignal) => Promise<T>;
  /**
   * Called once with the flight's result, synchronously, in arrival order; `index` is how many
   * callers of this flight were served before. Returns what this caller gets (a promise is
   * adopted), or {@link RETRY}. If it throws, only this caller fails.
   */
  readonly serve: (value: T, index: number) => R | PromiseLike<R> | typeof RETRY;
  /** Leaves the flight (rejecting with `ENVELOPE_ABORTED`) when it fires. */
  readonly signal?: AbortSignal | undefined;
}

/** Called after a flight's callers were served: `served` is how many got a result from it. */
export type FlightDone<T> = (key: string, value: T, served: number) => void;

interface Pending<T> {
  readonly caller: FlightCaller<T, unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  detach?: (() => void) | undefined;
}

interface Flight<T> {
  callers: Pending<T>[];
  readonly controller: AbortController;
  /** Started by {@link SingleFlight.start}: runs to the end even with no caller. */
  readonly background: boolean;
}

/**
 * Coalesces concurrent loads per key.
 *
 * @example
 * ```ts
 * const flights = new SingleFlight<Buffer>((key, value, served) => console.log(key, served));
 * const [a, b] = await Promise.all([
 *   flights.join('k', { load: () => fetchIt(), serve: (v) => v }),
 *   flights.join('k', { load: () => fetchIt(), serve: (v) => v }), // joins: fetchIt runs once
 * ]);
 * ```
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();
  readonly #done: FlightDone<T> | undefined;

  /** `done` runs once per successful flight, after its callers were served (its errors are ignored). */
  constructor(done?: FlightDone<T>) {
    this.#done = done;
  }

  /** Flights running now. */
  get size(): number {
    return this.#flights.size;
  }

  /** True while a load for `key` runs. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Callers waiting for `key`'s flight. */
  waiting(key: string): number {
    return this.#flights.get(key)?.callers.length ?? 0;
  }

  /** Joins the flight for `key`, or starts one with `caller.load`. */
  join<R>(key: string, caller: FlightCaller<T, R>): Promise<R> {
    const signal = caller.signal;
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return new Promise<R>((resolve, reject) => {
      this.#enqueue(key, [{ caller: caller as FlightCaller<T, unknown>, resolve: resolve as (v: unknown) => void, reject }], undefined);
    });
  }

  /**
   * Starts a background load for `key` with no caller (refresh-ahead). Callers may join it; it is
   * never aborted. Returns false, and does nothing, when a flight for `key` already runs.
   */
  start(key: string, load: (signal: AbortSignal) => Promise<T>): boolean {
    if (this.#flights.has(key)) return false;
    this.#enqueue(key, [], load);
    return true;
  }

  #enqueue(key: string, pending: Pending<T>[], background: ((signal: AbortSignal) => Promise<T>) | undefined): void {
    let flight = this.#flights.get(key);
    if (!flight) {
      const f: Flight<T> = { callers: [], controller: new AbortController(), background: background !== undefined };
      flight = f;
      this.#flights.set(key, f);
      const load = background ?? pending[0]!.caller.load;
      let p: Promise<T>;
      try {
        p = Promise.resolve(load(f.controller.signal));
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => this.#settle(key, f, v),
        (e: unknown) => this.#fail(key, f, e),
      );
    }
    for (const p of pending) this.#attach(flight, p);
  }

  #attach(flight: Flight<T>, p: Pending<T>): void {
    flight.callers.push(p);
    const signal = p.caller.signal;
    if (!signal) return;
    const onAbort = (): void => {
      const i = flight.callers.indexOf(p);
      if (i < 0) return;
      flight.callers.splice(i, 1);
      p.reject(abortedError(signal));
      if (flight.callers.length === 0 && !flight.background) flight.controller.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.detach = () => signal.removeEventListener('abort', onAbort);
  }

  #settle(key: string, flight: Flight<T>, value: T): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
    const callers = flight.callers;
    flight.callers = [];
    const retry: Pending<T>[] = [];
    let served = 0;
    for (const p of callers) {
      p.detach?.();
      p.detach = undefined;
      // Arrival order is kept: once one caller must retry, the rest follow it to the next flight.
      if (retry.length > 0) {
        retry.push(p);
        continue;
      }
      let r: unknown;
      try {
        r = p.caller.serve(value, served);
      } catch (e) {
        p.reject(e);
        continue;
      }
      if (r === RETRY) retry.push(p);
      else {
        served++;
        p.resolve(r);
      }
    }
    try {
      this.#done?.(key, value, served);
    } catch {
      // Every caller has its answer already; a failing hook must not become an unhandled rejection.
    }
    if (retry.length > 0) this.#enqueue(key, retry, undefined);
  }

  #fail(key: string, flight: Flight<T>, error: unknown): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
    const callers = flight.callers;
    flight.callers = [];
    for (const p of callers) {
      p.detach?.();
      p.reject(error);
    }
  }
}
