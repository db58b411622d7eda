import { describe, expect, it } from 'vitest';
import { Deadline, ManualClock } from '@envelope/keyring-kms';
import { hedge, type Candidate } from '../src/hedge.js';

const within = (ms: number, clock: ManualClock) => new Deadline(ms, undefined, clock).signal;

type Behaviour = { after: number; ok: boolean } | 'hang';

function candidate(
  clock: ManualClock,
  region: string,
  hedgeAfterMs: number,
  b: Behaviour,
  log: string[],
  extra: Partial<Candidate<string>> = {},
): Candidate<string> {
  return {
    key: `key-${region}`,
    region,
    hedgeAfterMs,
    ...extra,
    run(signal) {
      log.push(`start ${region} @${clock.now()}`);
      return new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => {
          log.push(`abort ${region}`);
          reject(signal.reason);
        });
        if (b === 'hang') return;
        clock.setTimer(b.after, () =>
          b.ok ? resolve(`dek-from-${region}`) : reject(Object.assign(new Error('boom'), { name: 'KMSInternalException' })),
        );
      });
    },
  };
}

describe('hedge', () => {
  it('returns the first candidate when it answers before its hedge delay', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const p = hedge([candidate(clock, 'a', 50, { after: 20, ok: true }, log), candidate(clock, 'b', 50, { after: 20, ok: true }, log)], {
      clock,
      signal: within(1000, clock),
    });
    await clock.advance(20);
    await expect(p).resolves.toMatchObject({ value: 'dek-from-a', started: 1 });
    expect(log).toEqual(['start a @0']);
  });

  it('starts the next candidate after the hedge delay; the first success wins and aborts the rest', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const outcomes: string[] = [];
    const p = hedge([candidate(clock, 'a', 50, 'hang', log), candidate(clock, 'b', 50, { after: 20, ok: true }, log)], {
      clock,
      signal: within(1000, clock),
      onOutcome: (c, o) => outcomes.push(`${c.region}:${o}`),
    });
    await clock.advance(70);
    const r = await p;
    expect(r.value).toBe('dek-from-b');
    expect(log).toEqual(['start a @0', 'start b @50', 'abort a']);
    await clock.advance(0);
    expect(outcomes).toEqual(['b:success', 'a:aborted']);
  });

  it('a failure starts the next candidate at once', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const p = hedge([candidate(clock, 'a', 500, { after: 5, ok: false }, log), candidate(clock, 'b', 500, { after: 5, ok: true }, log)], {
      clock,
      signal: within(1000, clock),
    });
    await clock.advance(10);
    await expect(p).resolves.toMatchObject({ value: 'dek-from-b' });
    expect(log).toEqual(['start a @0', 'start b @5']);
  });

  it('all failing is one coded error listing every candidate', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const p = hedge([candidate(clock, 'a', 10, { after: 5, ok: false }, log), candidate(clock, 'b', 10, { after: 5, ok: false }, log)], {
      clock,
      signal: within(1000, clock),
    });
    const check = expect(p).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
      causes: [
        { key: 'key-a', region: 'a', reason: 'KMSInternalException' },
        { key: 'key-b', region: 'b', reason: 'KMSInternalException' },
      ],
    });
    await clock.advance(20);
    await check;
  });

  it('the deadline bounds a call whose candidates all hang', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const p = hedge([candidate(clock, 'a', 10, 'hang', log), candidate(clock, 'b', 10, 'hang', log)], {
      clock,
      signal: within(300, clock),
    });
    const check = expect(p).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    await clock.advance(300);
    await check;
    expect(log).toEqual(['start a @0', 'start b @10', 'abort a', 'abort b']);
  });

  it('the error’s code follows its causes: only busy regions → ENVELOPE_THROTTLED; skipped regions are listed', async () => {
    const clock = new ManualClock();
    const busy = (region: string): Candidate<string> => ({
      key: `key-${region}`,
      region,
      hedgeAfterMs: 10,
      run: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
    });
    const p = hedge([busy('b')], { clock, signal: within(1000, clock), skipped: [{ key: 'key-a', region: 'a', reason: 'CircuitOpen' }] });
    await expect(p).rejects.toMatchObject({
      code: 'ENVELOPE_THROTTLED',
      causes: [
        { region: 'b', reason: 'ThrottlingException' },
        { region: 'a', reason: 'CircuitOpen' },
      ],
    });
  });

  it('a probe is not aborted when another candidate wins, and a late success is discarded', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const discarded: string[] = [];
    const p = hedge(
      [
        candidate(clock, 'probe', 0, { after: 40, ok: true }, log, { probe: true }),
        candidate(clock, 'b', 10, { after: 10, ok: true }, log),
      ],
      {
        clock,
        signal: within(1000, clock),
        discard: (v) => discarded.push(v),
      },
    );
    await clock.advance(10);
    await expect(p).resolves.toMatchObject({ value: 'dek-from-b' });
    await clock.advance(40);
    expect(log).not.toContain('abort probe');
    expect(discarded).toEqual(['dek-from-probe']);
  });

  it('the caller signal aborts everything', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const ac = new AbortController();
    const p = hedge([candidate(clock, 'a', 10, 'hang', log)], { clock, signal: ac.signal });
    const check = expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    ac.abort();
    await check;
    expect(log).toEqual(['start a @0', 'abort a']);
  });
});
