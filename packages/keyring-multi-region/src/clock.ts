/** Time, injectable so health and hedging are testable with a fake clock. */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    // Timers must never keep a process alive on their own.
    t.unref?.();
    return () => clearTimeout(t);
  },
};
