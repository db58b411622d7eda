/** Backoff with full jitter, the retry budget, deadlines and abort — on a fake clock. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Retrier, RetryBudget, withDeadline, type RetryClock } from '../src/index.js';

const named = (name: string, status = 400) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** A fake clock: sleeping advances time instantly and is recorded. */
function fakeClock(random: () => number = () => 0.5): RetryClock & { sleeps: number[]; t: number; advance(ms: number): void } {
  const c = {
    sleeps: [] as number[],
    t: 0,
    now: () => c.t,
    random,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      c.sleeps.push(ms);
      c.t += ms;
    },
    advance: (ms: number) => void (c.t += ms),
  };
  return c;
}

/** A call that fails with `errors` in turn, then answers `ok`. */
function flaky(errors: unknown[], ok = 'ok') {
  const calls: AbortSignal[] = [];
  return {
    calls,
    fn: async (s: AbortSignal) => {
      calls.push(s);
      const e = errors[calls.length - 1];
      if (e) throw e;
      return ok;
    },
  };
}

describe('Retrier', () => {
  it('retries transient failures with full-jitter backoff, then succeeds', async () => {
    const clock = fakeClock();
    const r = new Retrier({ maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, clock });
    const f = flaky([named('ThrottlingException'), named('KMSInternalException', 500), named('TimeoutError')]);
    await expect(r.run(f.fn)).resolves.toBe('ok');
    expect(f.calls).toHaveLength(4);
    expect(clock.sleeps).toEqual([50, 100, 200]); // 0.5 × min(1000, 100·2^n)
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
      const clock = fakeClock();
      const f = flaky([named(name), named(name), named(name)]);
      await expect(new Retrier({ maxRetries: 3, clock }).run(f.fn)).rejects.toMatchObject({ name });
      expect(f.calls, name).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
    }
  });

  it('gives up after maxRetries with the last error', async () => {
    const clock = fakeClock();
    const f = flaky([
      named('ThrottlingException'),
      named('ThrottlingException'),
      named('KMSInternalException', 500),
      named('ThrottlingException'),
    ]);
    await expect(new Retrier({ maxRetries: 2, clock }).run(f.fn)).rejects.toMatchObject({ name: 'KMSInternalException' });
    expect(f.calls).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('maxRetries 0: one attempt', async () => {
    const f = flaky([named('ThrottlingException')]);
    await expect(new Retrier({ maxRetries: 0, clock: fakeClock() }).run(f.fn)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(f.calls).toHaveLength(1);
  });

  it('every delay lies in [0, min(maxDelay, base·2^attempt)) (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 30 }),
        (rand, base, max, attempt) => {
          const d = new Retrier({ baseDelayMs: base, maxDelayMs: max, clock: fakeClock(() => rand) }).delay(attempt);
          const cap = Math.min(max, base * 2 ** attempt);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(cap);
          expect(d).toBeCloseTo(rand * cap, 6);
        },
      ),
    );
  });

  it('delays actually slept stay within the jitter bounds (random clock)', async () => {
    const clock = fakeClock(Math.random);
    const f = flaky(Array.from({ length: 6 }, () => named('ThrottlingException')));
    await new Retrier({ maxRetries: 6, baseDelayMs: 40, maxDelayMs: 300, maxRetryTokens: 10, minRetriesPerSecond: 10, clock }).run(f.fn);
    expect(clock.sleeps).toHaveLength(6);
    clock.sleeps.forEach((s, i) => {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(Math.min(300, 40 * 2 ** i));
    });
  });

  it('the caller’s abort during a backoff sleep ends the call with ENVELOPE_ABORTED', async () => {
    const ac = new AbortController();
    const clock = fakeClock();
    clock.sleep = async () => {
      ac.abort(new Error('user'));
      throw new Error('sleep aborted');
    };
    const f = flaky([named('ThrottlingException')]);
    await expect(new Retrier({ clock }).run(f.fn, ac.signal)).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(f.calls).toHaveLength(1);
  });

  it('an already-aborted signal makes no call', async () => {
    const f = flaky([]);
    await expect(new Retrier().run(f.fn, AbortSignal.abort())).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(f.calls).toHaveLength(0);
  });

  it('each attempt gets its own signal, under the deadline', async () => {
    const clock = fakeClock();
    const f = flaky([named('ThrottlingException')]);
    await new Retrier({ clock }).run(f.fn);
    expect(f.calls).toHaveLength(2);
    expect(f.calls[0]).not.toBe(f.calls[1]);
    expect(f.calls.every((s) => !s.aborted)).toBe(true);
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
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 0, capacity: 1, now: () => 0 });
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

  it('earns minPerSecond over time, up to capacity', () => {
    let t = 0;
    const b = new RetryBudget({ ratio: 0, minPerSecond: 2, capacity: 5, now: () => t });
    expect(b.tokens).toBe(5); // starts full
    for (let i = 0; i < 5; i++) expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    t += 500;
    expect(b.tryRetry()).toBe(true); // 1 token per 500 ms
    expect(b.tryRetry()).toBe(false);
    t += 60_000;
    expect(b.tokens).toBe(5); // capped
  });

  it('an outage: once the budget is spent, calls are not retried, so load stays ≈ calls × (1 + ratio)', async () => {
    const clock = fakeClock();
    const r = new Retrier({ maxRetries: 3, retryRatio: 0.1, minRetriesPerSecond: 0, maxRetryTokens: 5, clock });
    let attempts = 0;
    const down = async () => {
      attempts++;
      throw named('ThrottlingException');
    };
    for (let i = 0; i < 100; i++) await r.run(down).catch(() => {});
    // Without a budget: 400 attempts. With it: 100 first attempts + the 5 saved tokens + ~0.1 per call.
    expect(attempts).toBeLessThanOrEqual(100 + 5 + 10 + 1);
    expect(attempts).toBeGreaterThanOrEqual(100 + 10);
    expect(r.budget.denied).toBeGreaterThan(80);
  });

  it('a budget can be shared between retriers (keyrings)', async () => {
    const clock = fakeClock();
    const shared = new RetryBudget({ ratio: 0, minPerSecond: 0, capacity: 1, now: clock.now });
    const a = new Retrier({ retryBudget: shared, clock });
    const b = new Retrier({ retryBudget: shared, clock });
    const fa = flaky([named('ThrottlingException')]);
    const fb = flaky([named('ThrottlingException')]);
    await expect(a.run(fa.fn)).resolves.toBe('ok');
    await expect(b.run(fb.fn)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(fb.calls).toHaveLength(1);
  });
});

describe('withDeadline', () => {
  it('a call that never answers fails with ENVELOPE_TIMEOUT at the deadline, and its signal fires', async () => {
    let seen: AbortSignal | undefined;
    const t0 = performance.now();
    await expect(withDeadline(40, undefined, (s) => ((seen = s), new Promise(() => {})))).rejects.toMatchObject({
      code: 'ENVELOPE_TIMEOUT',
    });
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(35);
    expect(ms).toBeLessThan(500);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
  });

  it('the parent signal aborts at once with ENVELOPE_ABORTED, and reaches the call', async () => {
    const ac = new AbortController();
    let seen: AbortSignal | undefined;
    const p = withDeadline(10_000, ac.signal, (s) => ((seen = s), new Promise(() => {})));
    ac.abort(new Error('user'));
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(seen?.aborted).toBe(true);
  });

  it('passes values and errors through, including synchronous ones', async () => {
    await expect(withDeadline(1000, undefined, () => 7)).resolves.toBe(7);
    await expect(
      withDeadline(1000, undefined, () => {
        throw named('NotFoundException');
      }),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('leaves no listener on a long-lived parent signal', async () => {
    const ac = new AbortController();
    let added = 0;
    let removed = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const rem = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
    ac.signal.removeEventListener = ((...a: Parameters<typeof rem>) => (removed++, rem(...a))) as typeof rem;
    for (let i = 0; i < 5; i++) await withDeadline(1000, ac.signal, async () => i);
    expect(added).toBe(5);
    expect(removed).toBe(5);
  });
  it('an answer that lands after the deadline or the abort goes to discard (to wipe it); one in time does not', async () => {
    const late = { Plaintext: new Uint8Array(32).fill(7) };
    const discarded: unknown[] = [];
    let answer!: (v: typeof late) => void;
    const p = withDeadline(
      20,
      undefined,
      () => new Promise<typeof late>((r) => (answer = r)),
      (v) => {
        v.Plaintext.fill(0);
        discarded.push(v);
      },
    );
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    answer(late);
    await new Promise((r) => setTimeout(r, 5));
    expect(discarded).toEqual([late]);
    expect(late.Plaintext.every((b) => b === 0)).toBe(true);
    // Aborted by the caller, then answered: discarded too; a throwing discard is contained.
    const ac = new AbortController();
    const q = withDeadline(
      10_000,
      ac.signal,
      () => new Promise<number>((r) => setTimeout(() => r(1), 10)),
      () => {
        throw new Error('discard failed');
      },
    );
    ac.abort();
    await expect(q).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    await new Promise((r) => setTimeout(r, 20));
    const kept: unknown[] = [];
    await expect(
      withDeadline(
        1000,
        undefined,
        async () => 5,
        (v) => kept.push(v),
      ),
    ).resolves.toBe(5);
    expect(kept).toEqual([]);
  });
});
