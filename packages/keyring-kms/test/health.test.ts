import { describe, expect, it } from 'vitest';
import { CircuitBreaker, HealthRegistry, ManualClock } from '../src/index.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, admits one probe after the cool-down, closes on success', async () => {
    const clock = new ManualClock();
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
    const clock = new ManualClock();
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
    const clock = new ManualClock();
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
    const clock = new ManualClock();
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

  it('only the region’s own failures count (keyring-kms’s one classification): DNS does, throttling and a key’s refusal do not', () => {
    const h = new HealthRegistry({ clock: new ManualClock(), breaker: { failureThreshold: 3 } });
    for (const reason of [
      'ENOTFOUND',
      'EAI_AGAIN',
      'ECONNREFUSED',
      'CERT_HAS_EXPIRED',
      'ECONNRESET',
      'KMSInternalException',
      'TimeoutError',
      'slow',
    ])
      expect(h.recordFailure(`r-${reason}`, reason), reason).toBe('counted');
    for (const reason of ['ThrottlingException', 'AccessDeniedException', 'DisabledException', 'InvalidCiphertextException'])
      expect(h.recordFailure(`r-${reason}`, reason), reason).toBe('answered');
    for (const reason of ['Throttled', 'Aborted', 'Error']) expect(h.recordFailure(`r-${reason}`, reason), reason).toBe('none');
    // The reported bug: a region whose endpoint does not resolve never counted. Now it opens.
    for (let i = 0; i < 2; i++) h.recordFailure('dead', 'ENOTFOUND');
    expect(h.breakerState('dead')).toBe('closed');
    h.recordFailure('dead', 'ENOTFOUND');
    expect(h.regionHealth('dead')).toMatchObject({ breaker: 'open', failures: 3, lastError: 'ENOTFOUND' });
    // Throttling: never opens, and an answer resets the count of failures.
    for (let i = 0; i < 10; i++) h.recordFailure('busy', 'ThrottlingException');
    expect(h.regionHealth('busy')).toMatchObject({ breaker: 'closed', failures: 0, throttles: 10 });
    h.recordFailure('flaky', 'TimeoutError');
    h.recordFailure('flaky', 'TimeoutError');
    h.recordFailure('flaky', 'AccessDeniedException');
    h.recordFailure('flaky', 'TimeoutError');
    expect(h.regionHealth('flaky')).toMatchObject({ breaker: 'closed', consecutiveFailures: 1 });
  });
});
