import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../src/circuit-breaker.js';
import { HealthRegistry } from '../src/health.js';
import { FakeClock } from './fake-clock.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, admits one probe after the cool-down, closes on success', async () => {
    const clock = new FakeClock();
    const changes: string[] = [];
    const b = new CircuitBreaker(clock, { failureThreshold: 3, openMs: 1000 }, (f, t) => changes.push(`${f}->${t}`));
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryInMs).toBe(1000);
    await clock.advance(999);
    expect(b.tryAcquire()).toBe(false);
    await clock.advance(1);
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // one probe at a time
    b.success();
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('a failed probe reopens with a doubled cool-down, capped', async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 1, openMs: 100, maxOpenMs: 300 });
    b.failure();
    for (const wait of [100, 200, 300, 300]) {
      await clock.advance(wait - 1);
      expect(b.state).toBe('open');
      await clock.advance(1);
      expect(b.tryAcquire()).toBe(true);
      b.failure();
      expect(b.state).toBe('open');
    }
  });

  it('a released probe lets the next one through', async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 1, openMs: 10 });
    b.failure();
    await clock.advance(10);
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });
});

describe('HealthRegistry', () => {
  it('tracks a moving latency estimate and emits breaker changes', () => {
    const clock = new FakeClock();
    const h = new HealthRegistry({ clock, breaker: { failureThreshold: 2 } });
    const events: string[] = [];
    h.on('change', (e) => events.push(`${e.region}:${e.to}`));
    h.recordSuccess('us-east-1', 20);
    expect(h.latency('us-east-1')).toBe(20);
    for (let i = 0; i < 50; i++) h.recordSuccess('us-east-1', 40);
    expect(h.latency('us-east-1')).toBeGreaterThan(39);
    expect(h.latency('us-east-1')).toBeLessThanOrEqual(40);
    h.recordFailure('eu-west-1', 'TimeoutError');
    h.recordFailure('eu-west-1', 'TimeoutError');
    expect(events).toEqual(['eu-west-1:open']);
    const snap = h.snapshot();
    expect(snap.find((s) => s.region === 'eu-west-1')).toMatchObject({ breaker: 'open', failures: 2, lastError: 'TimeoutError' });
    expect(snap.find((s) => s.region === 'us-east-1')).toMatchObject({ breaker: 'closed', successes: 51 });
  });
});
