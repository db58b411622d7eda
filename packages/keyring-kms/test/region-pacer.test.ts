/**
 * Quota pacing per region, on a manual clock: waits within the deadline or an immediate
 * ENVELOPE_THROTTLED; the rate learned from ThrottlingExceptions against a simulated KMS quota;
 * the Retrier teaching the pacer.
 */
import { describe, expect, it } from 'vitest';
import { Deadline, ManualClock, RegionPacer, Retrier, classifyFailure, sleep } from '../src/index.js';

const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

/** The server side of a quota, as KMS (and kms-local) keep it: a bucket of `rate` tokens a second, one second deep. */
class ServerQuota {
  #tokens: number;
  #last: number;
  constructor(
    readonly rate: number,
    readonly clock: ManualClock,
  ) {
    this.#tokens = rate;
    this.#last = clock.now();
  }
  take(): boolean {
    const now = this.clock.now();
    this.#tokens = Math.min(this.rate, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

describe('RegionPacer', () => {
  it('an unthrottled region runs at its quota: no waiting', async () => {
    const clock = new ManualClock();
    const pacer = new RegionPacer({ clock });
    for (let i = 0; i < 1000; i++) await pacer.acquire('eu-central-1');
    expect(clock.now()).toBe(0);
    expect(pacer.rate('eu-central-1')).toBe(10_000);
    expect(pacer.rate('us-east-1')).toBe(100_000);
    expect(new RegionPacer({ quotas: { 'eu-central-1': 250 } }).rate('eu-central-1')).toBe(250);
  });

  it('a caller waits for its token within its deadline, and is refused at once when the wait would outlast it', async () => {
    const clock = new ManualClock();
    const pacer = new RegionPacer({ clock, quotas: { r: 10 }, burstMs: 100 }); // 10/s, one token of burst
    await pacer.acquire('r');
    const d = new Deadline(250, undefined, clock);
    const waited = pacer.acquire('r', d.signal);
    let done = false;
    void waited.then(() => (done = true));
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true); // one token every 100 ms
    // Two callers already queued ahead: the next token is 300 ms away, past the 150 ms left.
    pacer.acquire('r', d.signal).catch(() => {});
    pacer.acquire('r', d.signal).catch(() => {});
    const t = clock.now();
    await expect(pacer.acquire('r', d.signal)).rejects.toMatchObject({
      code: 'ENVELOPE_THROTTLED',
      causes: [{ region: 'r', reason: 'Throttled' }],
    });
    expect(clock.now()).toBe(t); // at once: nobody waits for nothing
    d.dispose();
  });

  it('the deadline firing during a wait is throttling (ENVELOPE_THROTTLED); the caller’s abort is ENVELOPE_ABORTED; both give the token back', async () => {
    const clock = new ManualClock();
    const pacer = new RegionPacer({ clock, quotas: { r: 10 }, burstMs: 100 });
    await pacer.acquire('r');
    const ac = new AbortController();
    const a = pacer.acquire('r', ac.signal);
    const check = expect(a).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    ac.abort();
    await check;
    const d = new Deadline(1000, undefined, clock);
    const b = pacer.acquire('r', d.signal);
    const checkB = expect(b).rejects.toMatchObject({ code: 'ENVELOPE_THROTTLED' });
    d.abort(new (await import('@envelope/core')).EnvelopeError('ENVELOPE_TIMEOUT', 'deadline'));
    await checkB;
    expect(pacer.snapshot()[0]).toMatchObject({ waiting: 0 });
    // Both reservations were returned: the next caller waits one token's time, not three.
    const c = pacer.acquire('r');
    await clock.advance(100);
    await c;
  });

  it('learns the rate a throttled region admits: offered twice its quota, goodput settles at 90–105% of it with few throttles', async () => {
    const clock = new ManualClock();
    const N = 100;
    const server = new ServerQuota(N, clock);
    const pacer = new RegionPacer({ clock });
    const retrier = new Retrier({ clock, pacer, maxRetries: 0, callTimeoutMs: 2000 });
    const outcomes: { at: number; outcome: 'ok' | 'throttled' | 'refused' }[] = [];
    const call = async (): Promise<void> => {
      const d = new Deadline(2000, undefined, clock);
      try {
        await retrier.run(async () => (server.take() ? 'ok' : Promise.reject(throttle())), { signal: d.signal, region: 'r' });
        outcomes.push({ at: clock.now(), outcome: 'ok' });
      } catch (e) {
        // Every failure is throttling: the pacer's coded refusal, or the region's own answer.
        const { reason, kind } = classifyFailure(e);
        expect(kind).toBe('load');
        outcomes.push({ at: clock.now(), outcome: reason === 'Throttled' ? 'refused' : 'throttled' });
      } finally {
        d.dispose();
      }
    };
    const pending: Promise<void>[] = [];
    const seconds = 20;
    // Open loop: 2N calls a second, one every 5 ms, whatever happens to the earlier ones.
    for (let i = 0; i < 2 * N * seconds; i++) {
      pending.push(call());
      await clock.advance(1000 / (2 * N));
    }
    await clock.run(Promise.all(pending));
    expect(outcomes).toHaveLength(2 * N * seconds);
    // After the first seconds (the region's burst, then learning), goodput sits just under the quota.
    const steady = outcomes.filter((o) => o.outcome === 'ok' && o.at >= 5000 && o.at < seconds * 1000).length / (seconds - 5);
    expect(steady).toBeGreaterThanOrEqual(0.9 * N);
    expect(steady).toBeLessThanOrEqual(1.05 * N);
    // Throttles are only the learning signal: under 2% of the calls, not half of them.
    expect(outcomes.filter((o) => o.outcome === 'throttled').length).toBeLessThan(0.02 * 2 * N * seconds);
    const pace = pacer.snapshot()[0]!;
    expect(pace.learned).toBe(true);
    expect(pace.ratePerSecond).toBeGreaterThan(0.8 * N);
    expect(pace.ratePerSecond).toBeLessThan(1.2 * N);
  });

  it('a region that throttles everything is paced down to minRate, and the rate grows back once it stops', async () => {
    const clock = new ManualClock();
    const pacer = new RegionPacer({ clock, minRate: 10 });
    for (let i = 0; i < 100; i++) {
      const sent = clock.now();
      await clock.run(pacer.acquire('r'));
      await clock.advance(50);
      pacer.onThrottled('r', sent);
    }
    expect(pacer.rate('r')).toBe(10);
    await clock.advance(30_000);
    expect(pacer.rate('r')).toBeGreaterThan(100);
  });

  it('one cut per round of news: throttles of calls sent before the last cut, or within 100 ms of it, teach nothing', async () => {
    const clock = new ManualClock(1000);
    const pacer = new RegionPacer({ clock, quotas: { r: 1000 } });
    for (let i = 0; i < 500; i++) await pacer.acquire('r');
    pacer.onThrottled('r', 1000);
    expect(pacer.rate('r')).toBeCloseTo(0.9 * 500); // 500 sent in the last second, none throttled before
    await clock.advance(50);
    pacer.onThrottled('r', 1020); // too soon to measure the new rate
    pacer.onThrottled('r', 999); // sent before the cut: old news
    expect(pacer.snapshot()[0]).toMatchObject({ throttles: 3, cuts: 1 });
    // 30 successes in the 200 ms since the cut: the region admits 150/s.
    for (let i = 0; i < 30; i++) pacer.onSuccess('r');
    await clock.advance(150);
    pacer.onThrottled('r', 1100);
    expect(pacer.snapshot()[0]).toMatchObject({ throttles: 4, cuts: 2 });
    expect(pacer.rate('r')).toBeCloseTo(0.9 * 150);
  });

  it('rejects bad options, naming them', () => {
    expect(() => new RegionPacer({ quotas: { r: 0 } })).toThrow(/quotas\.r/);
    expect(() => new RegionPacer({ backoff: 1 })).toThrow(/backoff/);
    expect(() => new RegionPacer({ minRate: -1 })).toThrow(/minRate/);
  });

  it('a Retrier waits for a token at most half of what is left of the caller’s deadline, and starts no retry it has no time for', async () => {
    const clock = new ManualClock();
    const pacer = new RegionPacer({ clock, quotas: { r: 10 }, burstMs: 100 }); // a token every 100 ms
    const retrier = new Retrier({ clock, pacer, callTimeoutMs: 1000, maxRetries: 3, baseDelayMs: 1 });
    await pacer.acquire('r'); // the bucket is empty
    const waiting = [1, 2, 3].map(() => pacer.acquire('r')); // three callers ahead: the next token is 400 ms away
    const calls: number[] = [];
    const d = new Deadline(700, undefined, clock); // 350 ms may go to waiting: not enough
    const p = retrier.run(async () => (calls.push(clock.now()), 'ok'), { signal: d.signal, region: 'r' });
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_THROTTLED', causes: [{ reason: 'Throttled' }] });
    expect(calls).toEqual([]);
    for (const w of waiting) await clock.run(w);
    // Throttled by the region near the end of the deadline: no retry is started with less than a
    // quarter of a call's timeout left (here 400 ms of 2000 ms, under 500).
    const fresh = new Retrier({ clock, pacer: new RegionPacer({ clock }), callTimeoutMs: 2000, maxRetries: 3, baseDelayMs: 1 });
    const d2 = new Deadline(2000, undefined, clock);
    const q = fresh.run(
      async () => {
        calls.push(clock.now());
        await sleep(clock, 1600);
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
      { signal: d2.signal, region: 'r' },
    );
    await expect(clock.run(q)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(calls).toHaveLength(1);
  });
});
