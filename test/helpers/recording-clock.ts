/**
 * The system clock, with a record of every timer set on it and of which fired. Integration tests
 * over real HTTP use it to say what ended a call (our per-call deadline, the whole operation's
 * deadline, or the server's answer) from the keyring's own timers, rather than bounding the wall
 * time a call took, which a loaded machine can stretch past any margin (issue 17.6).
 */
import { systemClock, type Clock } from '@envelope/keyring-kms';

export interface RecordedTimer {
  readonly ms: number;
  fired: boolean;
}

export class RecordingClock implements Clock {
  readonly timers: RecordedTimer[] = [];
  /** Called as each timer is set (e.g. to change a fault once a retry's backoff starts). */
  onTimer: ((ms: number) => void) | undefined;

  now(): number {
    return systemClock.now();
  }

  random(): number {
    return systemClock.random();
  }

  setTimer(ms: number, fn: () => void): () => void {
    const t: RecordedTimer = { ms, fired: false };
    this.timers.push(t);
    this.onTimer?.(ms);
    return systemClock.setTimer(ms, () => {
      t.fired = true;
      fn();
    });
  }

  /** How many timers of exactly `ms` fired. */
  fired(ms: number): number {
    return this.timers.filter((t) => t.fired && t.ms === ms).length;
  }
}
