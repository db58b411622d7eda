/**
 * Time for kms-local's token buckets (the `throttle` fault and quotas) and its `latency` fault,
 * injectable so tests run them on a fake clock instead of sleeping. keyring-kms's `Clock` (and its
 * `ManualClock`, which the tests use) has this shape and more; kms-local, which may depend only
 * on core, declares just what it needs.
 */
export interface KmsLocalClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The real clock: `performance.now()` and unref'd timers (a delay never keeps a process alive). */
export const systemClock: KmsLocalClock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};
