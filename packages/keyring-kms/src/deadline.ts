/**
 * The one deadline mechanism of the KMS and multi-region keyrings: a {@link Deadline} is an
 * AbortSignal that fires after `ms` on a {@link Clock} or when its parent fires, and remembers
 * when it expires, so that code further down (the quota pacer) can tell whether a wait still
 * fits before the deadline (see {@link remainingMs}). {@link withDeadline} runs one call under
 * one.
 */
import { EnvelopeError, abortedError } from '@envelope/core';
import { systemClock, type Clock } from './clock.js';

/** When each deadline signal expires, on which clock (nested deadlines: the earliest). */
const expiry = new WeakMap<AbortSignal, { clock: Clock; at: number }>();

/**
 * Milliseconds left before `signal`'s deadline (0 when past or already aborted), or undefined
 * for a signal that carries no deadline of ours (a caller's plain AbortSignal).
 */
export function remainingMs(signal: AbortSignal | undefined): number | undefined {
  if (!signal) return undefined;
  if (signal.aborted) return 0;
  const e = expiry.get(signal);
  return e === undefined ? undefined : Math.max(0, e.at - e.clock.now());
}

/** Core's: ENVELOPE_ABORTED for a caller's signal, keeping an EnvelopeError reason (a deadline above us) as it is. */
export { abortedError };

/**
 * A signal that fires with ENVELOPE_TIMEOUT after `ms` on `clock`, or with the parent's abort
 * (as ENVELOPE_ABORTED, or the parent's own deadline error) when `parent` fires first, or when
 * {@link Deadline.abort} is called. `ms` may be `Infinity`: a child that only inherits the
 * parent's deadline. Call {@link Deadline.dispose} when done: it cancels the timer and the
 * listener on the parent.
 *
 * @example
 * ```ts
 * const d = new Deadline(5000, callerSignal);
 * try { await Promise.all(regions.map((r) => call(r, d.signal))); } finally { d.dispose(); }
 * ```
 */
export class Deadline {
  readonly signal: AbortSignal;
  /** Expiry on the clock (the parent's, when that is earlier). */
  readonly expiresAt: number;
  readonly #ctl = new AbortController();
  readonly #clock: Clock;
  readonly #cancel: () => void;
  readonly #parent: AbortSignal | undefined;
  readonly #onParent: () => void;

  constructor(ms: number, parent?: AbortSignal, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#parent = parent;
    this.signal = this.#ctl.signal;
    const own = clock.now() + ms;
    const inherited = parent ? expiry.get(parent) : undefined;
    // A parent deadline on another clock cannot be compared: keep ours.
    this.expiresAt = inherited && inherited.clock === clock ? Math.min(own, inherited.at) : own;
    expiry.set(this.signal, { clock, at: this.expiresAt });
    this.#onParent = () => this.#ctl.abort(abortedError(parent));
    this.#cancel = Number.isFinite(ms)
      ? clock.setTimer(ms, () => this.#ctl.abort(new EnvelopeError('ENVELOPE_TIMEOUT', `no answer within ${ms} ms`)))
      : () => {};
    if (parent?.aborted) this.#onParent();
    else parent?.addEventListener('abort', this.#onParent, { once: true });
  }

  /** Milliseconds left (0 once expired or aborted). */
  get remainingMs(): number {
    return this.signal.aborted ? 0 : Math.max(0, this.expiresAt - this.#clock.now());
  }

  /** Fires the signal now with `reason` (an {@link EnvelopeError}, e.g. ENVELOPE_ABORTED "another region answered first"). */
  abort(reason: EnvelopeError): void {
    this.#ctl.abort(reason);
  }

  /** Cancels the timer and detaches from the parent (the signal stays as it is). */
  dispose(): void {
    this.#cancel();
    this.#parent?.removeEventListener('abort', this.#onParent);
  }
}

/**
 * Runs `fn` under a {@link Deadline} of `ms`, and settles the moment the deadline or `parent`
 * fires, even if `fn` ignores its signal (a silent endpoint must not hang the caller): a
 * deadline rejects with ENVELOPE_TIMEOUT, the parent with ENVELOPE_ABORTED (or the parent's
 * own deadline error).
 *
 * An answer that arrives after that (a client that ignored its signal, a response already in
 * flight) has no caller left: it goes to `discard`, which should wipe any key material in it.
 * Errors of `discard` are ignored.
 *
 * @example
 * ```ts
 * await withDeadline(2000, callerSignal, (signal) => client.decrypt(input, signal), (late) => late.Plaintext?.fill(0));
 * ```
 */
export function withDeadline<T>(
  ms: number,
  parent: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T> | T,
  discard?: (late: T) => void,
  clock: Clock = systemClock,
): Promise<T> {
  if (parent?.aborted) return Promise.reject(abortedError(parent));
  const d = new Deadline(ms, parent, clock);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      settled = true;
      d.dispose();
      reject(d.signal.reason instanceof EnvelopeError ? d.signal.reason : abortedError(parent));
    };
    d.signal.addEventListener('abort', onAbort, { once: true });
    // Promise.resolve().then: a client may answer (or throw) synchronously.
    Promise.resolve()
      .then(() => fn(d.signal))
      .then(
        (v) => {
          if (!settled) {
            settled = true;
            d.signal.removeEventListener('abort', onAbort);
            d.dispose();
            resolve(v);
          } else if (discard) {
            try {
              discard(v);
            } catch {
              // Nothing to report to: the caller has its answer (the timeout or the abort).
            }
          }
        },
        (e: unknown) => {
          if (settled) return;
          settled = true;
          d.signal.removeEventListener('abort', onAbort);
          d.dispose();
          reject(e);
        },
      );
  });
}
