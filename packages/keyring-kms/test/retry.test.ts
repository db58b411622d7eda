/**
 * Backoff with full jitter, the retry budget, per-attempt deadlines and abort, on a manual
 * clock: the calls answer at once, so the clock time a run takes is the sum of its backoff
 * sleeps.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock, Retrier, RetryBudget } from '../src/index.js';

const named = (name: string, status = 400) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

function clockWith(random: () => number = () => 0.5): ManualClock {
  const c = new ManualClock();
  c.random = random;
  return c;
}

/** A call that fails with `errors` in turn, then answers `ok`; records each attempt's signal and clock time. */
function flaky(errors: unknown[], ok = 'ok', clock?: ManualClock) {
  const calls: AbortSignal[] = [];
  const at: number[] = [];
  return {
    calls,
    at,
    fn: async (s: AbortSignal) => {
      calls.push(s);
      at.push(clock?.now() ?? 0);
      const e = errors[calls.length - 1];
      if (e) throw e;
      return ok;
    },
  };
}

describe('Retrier', () => {
  it('retries transient failures with full-jitter backoff, then succeeds', async () => {
    const clock = clockWith();
    const r = new Retrier({ maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, clock });
    const f = flaky([named('ThrottlingException'), named('KMSInternalException', 500), named('TimeoutError')], 'ok', clock);
    await expect(clock.run(r.run(f.fn))).resolves.toBe('ok');
    expect(f.calls).toHaveLength(4);
    expect(f.at).toEqual([0, 50, 150, 350]); // sleeps of 0.5 × min(1000, 100·2^n): 50, 100, 200
  });

  it('does not retry permanent failures', async () => {
    for (const name of [
      'AccessDeniedException',
      'DisabledException',
      'NotFoundException',
      'InvalidCiphertextException',
      'IncorrectKeyException',
      'ValidationException',
    ]) {
      const clock = clockWith();
      const f = flaky([named(name), named(name), named(name)], 'ok', clock);
      await expect(clock.run(new Retrier({ maxRetries: 3, clock }).run(f.fn))).rejects.toMatchObject({ name });
      expect(f.calls, name).toHaveLength(1);
      expect(clock.now()).toBe(0);
    }
  });

  it('gives up after maxRetries with the last error', async () => {
    const clock = clockWith();
    const f = flaky(
      [named('ThrottlingException'), named('ThrottlingException'), named('KMSInternalException', 500), named('ThrottlingException')],
      'ok',
      clock,
    );
    await expect(clock.run(new Retrier({ maxRetries: 2, clock }).run(f.fn))).rejects.toMatchObject({ name: 'KMSInternalException' });
    expect(f.calls).toHaveLength(3);
    expect(f.at).toEqual([0, 25, 75]);
  });

  it('maxRetries 0: one attempt', async () => {
    const clock = clockWith();
    const f = flaky([named('ThrottlingException')]);
    await expect(clock.run(new Retrier({ maxRetries: 0, clock }).run(f.fn))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(f.calls).toHaveLength(1);
  });

  it('retryKinds narrows what is retried (load only: a timeout is not retried, throttling is)', async () => {
    const clock = clockWith();
    const r = new Retrier({ maxRetries: 2, clock });
    const t = flaky([named('TimeoutError')]);
    await expect(clock.run(r.run(t.fn, { retryKinds: ['load'] }))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(t.calls).toHaveLength(1);
    const th = flaky([named('ThrottlingException')]);
    await expect(clock.run(r.run(th.fn, { retryKinds: ['load'] }))).resolves.toBe('ok');
    expect(th.calls).toHaveLength(2);
  });

  it('every delay lies in [0, min(maxDelay, base·2^attempt)) (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 30 }),
        (rand, base, max, attempt) => {
          const d = new Retrier({ baseDelayMs: base, maxDelayMs: max, clock: clockWith(() => rand) }).delay(attempt);
          const cap = Math.min(max, base * 2 ** attempt);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(cap);
          expect(d).toBeCloseTo(rand * cap, 6);
        },
      ),
      { seed: 1717 },
    );
  });

  it('delays actually slept stay within the jitter bounds (seeded random clock)', async () => {
    let seed = 42;
    const clock = clockWith(() => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const f = flaky(
      Array.from({ length: 6 }, () => named('ThrottlingException')),
      'ok',
      clock,
    );
    await clock.run(
      new Retrier({ maxRetries: 6, baseDelayMs: 40, maxDelayMs: 300, maxRetryTokens: 10, minRetriesPerSecond: 10, clock }).run(f.fn),
    );
    expect(f.at).toHaveLength(7);
    f.at.slice(1).forEach((t, i) => {
      const slept = t - f.at[i]!;
      expect(slept).toBeGreaterThanOrEqual(0);
      expect(slept).toBeLessThan(Math.min(300, 40 * 2 ** i));
    });
  });

  it('the caller’s abort during a backoff sleep ends the call with ENVELOPE_ABORTED at once', async () => {
    const ac = new AbortController();
    const clock = clockWith();
    const f = flaky([named('ThrottlingException')]);
    const p = new Retrier({ clock, baseDelayMs: 1000 }).run(f.fn, { signal: ac.signal });
    await clock.advance(10); // inside the 500 ms sleep
    ac.abort(new Error('user'));
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(f.calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an already-aborted signal makes no call', async () => {
    const f = flaky([]);
    await expect(new Retrier().run(f.fn, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(f.calls).toHaveLength(0);
  });

  it('each attempt gets its own signal, under the per-attempt deadline', async () => {
    const clock = clockWith();
    const f = flaky([named('ThrottlingException')]);
    await clock.run(new Retrier({ clock }).run(f.fn));
    expect(f.calls).toHaveLength(2);
    expect(f.calls[0]).not.toBe(f.calls[1]);
    expect(f.calls.every((s) => !s.aborted)).toBe(true);
  });

  it('an attempt that never answers times out at callTimeoutMs on the clock, and is retried', async () => {
    const clock = clockWith();
    const signals: AbortSignal[] = [];
    const r = new Retrier({ clock, callTimeoutMs: 300, maxRetries: 1, baseDelayMs: 100 });
    const p = r.run((s) => (signals.push(s), new Promise<string>(() => {})));
    const check = expect(p).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    await clock.advance(299);
    expect(signals).toHaveLength(1);
    await clock.advance(1);
    expect(signals[0]!.aborted).toBe(true);
    await clock.advance(50); // backoff 0.5 × 100
    expect(signals).toHaveLength(2);
    await clock.advance(300);
    await check;
  });

  it('rejects bad options, naming them', () => {
    expect(() => new Retrier({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => new Retrier({ maxRetries: 1.5 })).toThrow(/maxRetries/);
    expect(() => new Retrier({ callTimeoutMs: 0 })).toThrow(/callTimeoutMs/);
    expect(() => new Retrier({ baseDelayMs: Number.NaN })).toThrow(/baseDelayMs/);
    expect(() => new Retrier({ retryRatio: -0.1 })).toThrow(/retryRatio/);
  });
});

describe('RetryBudget', () => {
  it('retries are capped at about ratio × calls (no time passing)', () => {
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 0, capacity: 1, clock: new ManualClock() });
    let granted = 0;
    for (let i = 0; i < 1000; i++) {
      b.onCall();
      if (b.tryRetry()) granted++;
    }
    // 0.1 per call: 100 retries for 1000 calls, i.e. 10% extra load (+ the initial bucket of 1).
    expect(granted).toBeGreaterThanOrEqual(99);
    expect(granted).toBeLessThanOrEqual(101);
    expect(b.denied).toBe(1000 - granted);
  });

  it('earns minPerSecond over time, up to capacity', async () => {
    const clock = new ManualClock();
    const b = new RetryBudget({ ratio: 0, minPerSecond: 2, capacity: 5, clock });
    expect(b.tokens).toBe(5); // starts full
    for (let i = 0; i < 5; i++) expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    await clock.advance(500);
    expect(b.tryRetry()).toBe(true); // 1 token per 500 ms
    expect(b.tryRetry()).toBe(false);
    await clock.advance(60_000);
    expect(b.tokens).toBe(5); // capped
  });

  it('an outage: once the budget is spent, calls are not retried, so load stays ≈ calls × (1 + ratio)', async () => {
    const clock = clockWith();
    const r = new Retrier({ maxRetries: 3, retryRatio: 0.1, minRetriesPerSecond: 0, maxRetryTokens: 5, clock });
    let attempts = 0;
    const down = async () => {
      attempts++;
      throw named('ThrottlingException');
    };
    for (let i = 0; i < 100; i++) await clock.run(r.run(down)).catch(() => {});
    // Without a budget: 400 attempts. With it: 100 first attempts + the 5 saved tokens + ~0.1 per call.
    expect(attempts).toBeLessThanOrEqual(100 + 5 + 10 + 1);
    expect(attempts).toBeGreaterThanOrEqual(100 + 10);
    expect(r.budget.denied).toBeGreaterThan(80);
  });

  it('a budget can be shared between retriers (keyrings)', async () => {
    const clock = clockWith();
    const shared = new RetryBudget({ ratio: 0, minPerSecond: 0, capacity: 1, clock });
    const a = new Retrier({ retryBudget: shared, clock });
    const b = new Retrier({ retryBudget: shared, clock });
    const fa = flaky([named('ThrottlingException')]);
    const fb = flaky([named('ThrottlingException')]);
    await expect(clock.run(a.run(fa.fn))).resolves.toBe('ok');
    await expect(clock.run(b.run(fb.fn))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(fb.calls).toHaveLength(1);
  });
});
