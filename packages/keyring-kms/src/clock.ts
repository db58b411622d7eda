/**
 * Time for every time-based mechanism of the KMS keyrings and the multi-region keyring:
 * deadlines, backoff, retry budgets, circuit breakers, hedge delays and quota pacing. One
 * interface, so tests drive all of them from one {@link ManualClock}.
 */

/** Time, timers and randomness, injectable so that tests run on a manual clock. */
export interface Clock {
  /** Milliseconds, monotonic (any origin). */
  now(): number;
  /** Calls `fn` once after `ms`; returns a function that cancels it. Must not keep a process alive. */
  setTimer(ms: number, fn: () => void): () => void;
  /** Uniform in [0, 1): backoff jitter. */
  random(): number;
}

/**
 * The real clock: `performance.now`, unref'd `setTimeout`, `Math.random`. A timer's callback
 * runs one turn of the event loop after it is due (`setImmediate`): when the process was stalled
 * (a long GC pause, a starved CPU), answers that arrived meanwhile are read before a deadline
 * that passed meanwhile gives up on them (Node runs due timers before pending I/O).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    let immediate: ReturnType<typeof setImmediate> | undefined;
    // Not unref'd: an unref'd immediate does not wake a loop blocked in poll, and would run
    // only when something else does (seconds later); it holds the loop for one turn at most.
    const t = setTimeout(() => (immediate = setImmediate(fn)), ms);
    // A pending deadline or cool-down must never keep a process alive on its own.
    t.unref?.();
    return () => {
      clearTimeout(t);
      if (immediate) clearImmediate(immediate);
    };
  },
  random: Math.random,
};

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason once `signal` fires.
 *
 * @example
 * ```ts
 * await sleep(systemClock, 50, signal);
 * ```
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // Unlike a deadline, a sleep is the pending work itself (a retry waiting out its backoff):
    // with only unref'd timers left, a CLI that awaits it at top level would exit in the middle
    // (code 13, no message). So a real sleep holds the process open until it ends.
    const hold = clock === systemClock ? setInterval(() => {}, 0x7fffffff) : undefined;
    const onAbort = (): void => {
      clearInterval(hold);
      cancel();
      reject(signal!.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      clearInterval(hold);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A clock that moves only when told: timers fire in order as {@link ManualClock.advance} passes
 * them, with pending promise callbacks run between timers. For tests (and simulations) of
 * deadlines, breakers, budgets and pacing without sleeping.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const keyring = new KmsKeyring({ clientSupplier, generatorKeyId: arn, clock, callTimeoutMs: 1000 });
 * const p = keyring.onDecrypt(materials, edks);      // a call that never answers
 * await clock.advance(1000);                          // the deadline passes, at once
 * await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: { at: number; seq: number; fn: () => void }[] = [];
  /** The value {@link ManualClock.random} returns (default 0.5); set it to steer jitter. */
  randomValue = 0.5;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  random(): number {
    return this.randomValue;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const t = { at: this.#now + Math.max(0, ms), seq: ++this.#seq, fn };
    this.#timers.push(t);
    return () => {
      const i = this.#timers.indexOf(t);
      if (i >= 0) this.#timers.splice(i, 1);
    };
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the next timer is due (undefined when none is pending). */
  get nextTimerAt(): number | undefined {
    return this.#next()?.at;
  }

  /**
   * Moves time forward by `ms`, firing each timer due on the way at its own time, in order, and
   * letting pending promise callbacks run before and after each.
   */
  async advance(ms: number): Promise<void> {
    await this.#advanceTo(this.#now + Math.max(0, ms));
  }

  async #advanceTo(end: number): Promise<void> {
    for (;;) {
      await settle();
      const t = this.#next();
      if (!t || t.at > end) break;
      this.#timers.splice(this.#timers.indexOf(t), 1);
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = end;
    await settle();
  }

  /**
   * Advances from timer to timer until `p` settles (at most `limitMs` of clock time), then
   * returns its outcome: for awaiting an operation whose duration is decided by timers.
   */
  async run<T>(p: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let done = false;
    const watched = p.finally(() => (done = true));
    watched.catch(() => {});
    const end = this.#now + limitMs;
    for (;;) {
      await settle();
      if (done) break;
      const next = this.#next();
      if (!next || next.at > end) break;
      await this.#advanceTo(Math.max(this.#now, next.at));
    }
    return watched;
  }

  #next(): { at: number; seq: number; fn: () => void } | undefined {
    let best: { at: number; seq: number; fn: () => void } | undefined;
    for (const t of this.#timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}

/** Lets every pending promise callback run (a macrotask turn drains the microtask queue). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
