/** The one deadline mechanism (Deadline, withDeadline, remainingMs) and the manual clock, all on clock time. */
import { describe, expect, it, vi } from 'vitest';
import { closeSync, openSync, read } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Deadline, ManualClock, remainingMs, sleep, systemClock, withDeadline } from '../src/index.js';

const named = (name: string) => Object.assign(new Error(name), { name });

describe('ManualClock', () => {
  it('fires timers in order as time passes, each at its own time; cancelled ones never', async () => {
    const clock = new ManualClock(1000);
    const log: string[] = [];
    clock.setTimer(30, () => log.push(`b@${clock.now()}`));
    clock.setTimer(10, () => log.push(`a@${clock.now()}`));
    const cancel = clock.setTimer(20, () => log.push('cancelled'));
    cancel();
    await clock.advance(25);
    expect(log).toEqual(['a@1010']);
    expect(clock.now()).toBe(1025);
    await clock.advance(5);
    expect(log).toEqual(['a@1010', 'b@1030']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('run() advances timer by timer until the promise settles', async () => {
    const clock = new ManualClock();
    const p = (async () => {
      await sleep(clock, 100);
      await sleep(clock, 250);
      return clock.now();
    })();
    await expect(clock.run(p)).resolves.toBe(350);
  });
});

describe('Deadline', () => {
  it('fires with ENVELOPE_TIMEOUT after ms on the clock, and says how much time is left', async () => {
    const clock = new ManualClock();
    const d = new Deadline(500, undefined, clock);
    expect(remainingMs(d.signal)).toBe(500);
    await clock.advance(200);
    expect(d.remainingMs).toBe(300);
    expect(d.signal.aborted).toBe(false);
    await clock.advance(300);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    expect(remainingMs(d.signal)).toBe(0);
  });

  it('a child inherits the earlier expiry of its parent, and the parent’s abort', async () => {
    const clock = new ManualClock();
    const parent = new Deadline(300, undefined, clock);
    const child = new Deadline(10_000, parent.signal, clock);
    const forever = new Deadline(Infinity, parent.signal, clock);
    expect(child.expiresAt).toBe(300);
    expect(remainingMs(forever.signal)).toBe(300);
    await clock.advance(300);
    expect(child.signal.reason).toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    expect(forever.signal.aborted).toBe(true);
    child.dispose();
    forever.dispose();
  });

  it('a caller’s plain signal carries no deadline; its abort becomes ENVELOPE_ABORTED', () => {
    const ac = new AbortController();
    expect(remainingMs(ac.signal)).toBeUndefined();
    const d = new Deadline(1000, ac.signal, new ManualClock());
    ac.abort(new Error('user'));
    expect(d.signal.reason).toMatchObject({ code: 'ENVELOPE_ABORTED' });
  });

  it('dispose cancels the timer and leaves no listener on a long-lived parent', () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    let added = 0;
    let removed = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const rem = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
    ac.signal.removeEventListener = ((...a: Parameters<typeof rem>) => (removed++, rem(...a))) as typeof rem;
    for (let i = 0; i < 5; i++) new Deadline(1000, ac.signal, clock).dispose();
    expect(added).toBe(5);
    expect(removed).toBe(5);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('withDeadline', () => {
  it('a call that never answers fails with ENVELOPE_TIMEOUT at the deadline (not before), and its signal fires', async () => {
    const clock = new ManualClock();
    let seen: AbortSignal | undefined;
    let settled = false;
    const p = withDeadline(40, undefined, (s) => ((seen = s), new Promise(() => {})), undefined, clock);
    p.catch(() => (settled = true));
    await clock.advance(39);
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
  });

  it('the parent signal aborts at once with ENVELOPE_ABORTED, and reaches the call', async () => {
    const ac = new AbortController();
    let seen: AbortSignal | undefined;
    const p = withDeadline(10_000, ac.signal, (s) => ((seen = s), new Promise(() => {})), undefined, new ManualClock());
    ac.abort(new Error('user'));
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(seen?.aborted).toBe(true);
  });

  it('passes values and errors through, including synchronous ones, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    await expect(withDeadline(1000, undefined, () => 7, undefined, clock)).resolves.toBe(7);
    await expect(
      withDeadline(
        1000,
        undefined,
        () => {
          throw named('NotFoundException');
        },
        undefined,
        clock,
      ),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('an answer that lands after the deadline or the abort goes to discard (to wipe it); one in time does not', async () => {
    const clock = new ManualClock();
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
      clock,
    );
    p.catch(() => {});
    await clock.advance(20);
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    answer(late);
    await clock.advance(0);
    expect(discarded).toEqual([late]);
    expect(late.Plaintext.every((b) => b === 0)).toBe(true);
    // Aborted by the caller, then answered: discarded too; a throwing discard is contained.
    const ac = new AbortController();
    let answer2!: (v: number) => void;
    const q = withDeadline(
      10_000,
      ac.signal,
      () => new Promise<number>((r) => (answer2 = r)),
      () => {
        throw new Error('discard failed');
      },
      clock,
    );
    ac.abort();
    await expect(q).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    answer2(1);
    await clock.advance(0);
    const kept: unknown[] = [];
    await expect(
      withDeadline(
        1000,
        undefined,
        async () => 5,
        (v) => kept.push(v),
        clock,
      ),
    ).resolves.toBe(5);
    expect(kept).toEqual([]);
  });

  it('on the system clock, a deadline that passed while the process was stalled lets an answer that arrived meanwhile win', async () => {
    // One read from the thread pool: it completes while the loop is blocked, so its callback and
    // the due deadline are both pending when the loop resumes. Node runs due timers first; the
    // system clock defers a timer's callback by one turn so that the answer is read first.
    const fd = openSync(fileURLToPath(import.meta.url), 'r');
    try {
      const p = withDeadline(
        5,
        undefined,
        () => new Promise<number>((resolve, reject) => read(fd, Buffer.alloc(16), 0, 16, 0, (e, n) => (e ? reject(e) : resolve(n)))),
      );
      await Promise.resolve(); // withDeadline starts the call on the next microtask
      await Promise.resolve();
      const stalled = performance.now() + 50;
      while (performance.now() < stalled) {
        // A stall: a long GC pause, a starved CPU.
      }
      await expect(p).resolves.toBe(16);
    } finally {
      closeSync(fd);
    }
  });

  it('on the system clock, a due timer’s deferred callback keeps the loop awake for its one turn (a ref’d immediate)', async () => {
    // An unref'd immediate does not wake a loop blocked in poll: the callback would wait for
    // other I/O, seconds in a quiet process (a 7 ms backoff took 6 s). What is deferred must be ref'd.
    const refd: boolean[] = [];
    const real = globalThis.setImmediate;
    const spy = vi.spyOn(globalThis, 'setImmediate').mockImplementation(((fn: () => void) => {
      const i = real(fn);
      // Once the timer callback that made it has returned (and could have unref'd it), before it runs.
      queueMicrotask(() => refd.push(i.hasRef()));
      return i;
    }) as typeof setImmediate);
    try {
      await new Promise<void>((resolve) => systemClock.setTimer(5, resolve));
    } finally {
      spy.mockRestore();
    }
    expect(refd.length).toBeGreaterThan(0);
    expect(refd.every(Boolean)).toBe(true);
  });
});
