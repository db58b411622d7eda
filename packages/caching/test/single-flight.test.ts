import { describe, expect, it } from 'vitest';
import { EnvelopeError } from '@envelope/core';
import { RETRY, SingleFlight } from '../src/index.js';
import { turn } from './helpers/counting-keyring.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('1,000 concurrent joins make one load; each caller is served in arrival order', async () => {
    const done: [string, number, number][] = [];
    const f = new SingleFlight<number>((k, v, served) => done.push([k, v, served]));
    let loads = 0;
    const d = deferred<number>();
    const order: number[] = [];
    const all = Array.from({ length: 1000 }, (_, i) =>
      f.join('k', {
        load: () => {
          loads++;
          return d.promise;
        },
        serve: (v, index) => {
          order.push(i);
          return v + index;
        },
      }),
    );
    expect(f.waiting('k')).toBe(1000);
    d.resolve(7);
    const results = await Promise.all(all);
    expect(loads).toBe(1);
    expect(results[0]).toBe(7);
    expect(results[999]).toBe(7 + 999);
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(done).toEqual([['k', 7, 1000]]);
    expect(f.size).toBe(0);
  });

  it('a failed load rejects every caller with its error; the next join loads again', async () => {
    const f = new SingleFlight<number>();
    let loads = 0;
    const boom = new EnvelopeError('ENVELOPE_KMS', 'down');
    const caller = {
      load: async () => {
        loads++;
        await turn(); // settles after every caller has joined
        if (loads === 1) throw boom;
        return 1;
      },
      serve: (v: number) => v,
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => f.join('k', caller)));
    expect(results.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    expect(loads).toBe(1);
    expect(await f.join('k', caller)).toBe(1);
    expect(loads).toBe(2);
  });

  it('a load that throws synchronously fails its flight like a rejection', async () => {
    const f = new SingleFlight<number>();
    await expect(
      f.join('k', {
        load: () => {
          throw new Error('sync');
        },
        serve: (v) => v,
      }),
    ).rejects.toThrow('sync');
    expect(f.size).toBe(0);
  });

  it('RETRY sends that caller and every later one to one new flight, led by the first of them', async () => {
    const f = new SingleFlight<{ n: number; left: number }>();
    let loads = 0;
    const caller = {
      load: async () => ({ n: ++loads, left: 3 }),
      serve: (v: { n: number; left: number }) => (v.left-- > 0 ? v.n : RETRY),
    };
    const got = await Promise.all(Array.from({ length: 8 }, () => f.join('k', caller)));
    expect(got).toEqual([1, 1, 1, 2, 2, 2, 3, 3]);
    expect(loads).toBe(3);
  });

  it('a serve that throws fails only its caller', async () => {
    const f = new SingleFlight<number>();
    const load = async (): Promise<number> => 1;
    const [a, b] = await Promise.allSettled([
      f.join('k', {
        load,
        serve: () => {
          throw new Error('mine');
        },
      }),
      f.join('k', { load, serve: (v) => v }),
    ]);
    expect(a.status).toBe('rejected');
    expect(b).toEqual({ status: 'fulfilled', value: 1 });
  });

  it('an aborted caller leaves without failing the others, and the load keeps running for them', async () => {
    const f = new SingleFlight<number>();
    const d = deferred<number>();
    let loadSignal: AbortSignal | undefined;
    const ac = new AbortController();
    const leader = f.join('k', {
      signal: ac.signal,
      load: (s) => {
        loadSignal = s;
        return d.promise;
      },
      serve: (v) => v,
    });
    const other = f.join('k', { load: () => d.promise, serve: (v) => v });
    ac.abort();
    await expect(leader).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(loadSignal!.aborted).toBe(false);
    d.resolve(5);
    expect(await other).toBe(5);
  });

  it('the load is aborted once every caller has left; a pre-aborted caller never joins', async () => {
    const done: number[] = [];
    const f = new SingleFlight<number>((_k, _v, served) => done.push(served));
    let loadSignal: AbortSignal | undefined;
    const a = new AbortController();
    const b = new AbortController();
    const load = (s: AbortSignal): Promise<number> => {
      loadSignal = s;
      return new Promise((res, rej) => s.addEventListener('abort', () => rej(new Error('load aborted'))));
    };
    const pa = f.join('k', { signal: a.signal, load, serve: (v) => v });
    const pb = f.join('k', { signal: b.signal, load, serve: (v) => v });
    a.abort();
    expect(loadSignal!.aborted).toBe(false);
    b.abort();
    expect(loadSignal!.aborted).toBe(true);
    await expect(pa).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    await expect(pb).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    await expect(f.join('k', { signal: a.signal, load, serve: (v) => v })).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(f.size).toBe(0);
  });

  it('start runs a background load that callers may join; it is not aborted when they leave', async () => {
    const done: [number, number][] = [];
    const f = new SingleFlight<number>((_k, v, served) => done.push([v, served]));
    const d = deferred<number>();
    let bgSignal: AbortSignal | undefined;
    expect(
      f.start('k', (s) => {
        bgSignal = s;
        return d.promise;
      }),
    ).toBe(true);
    expect(f.start('k', () => d.promise)).toBe(false);
    const ac = new AbortController();
    const p = f.join('k', { signal: ac.signal, load: () => Promise.resolve(0), serve: (v) => v });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expect(bgSignal!.aborted).toBe(false);
    d.resolve(3);
    await turn(); // the flight's promise callbacks run
    expect(done).toEqual([[3, 0]]);
  });

  it('a throwing done hook neither fails the callers nor escapes as an unhandled rejection', async () => {
    const f = new SingleFlight<number>(() => {
      throw new Error('hook');
    });
    expect(await f.join('k', { load: async () => 1, serve: (v) => v })).toBe(1);
    expect(await f.join('k', { load: async () => 2, serve: (v) => v })).toBe(2);
  });

  it('keys are independent', async () => {
    const f = new SingleFlight<string>();
    const loads: string[] = [];
    const join = (k: string): Promise<string> =>
      f.join(k, {
        load: async () => {
          loads.push(k);
          return k;
        },
        serve: (v) => v,
      });
    expect(await Promise.all([join('a'), join('b'), join('a')])).toEqual(['a', 'b', 'a']);
    expect(loads).toEqual(['a', 'b']);
  });
});
