/**
 * Key failures and the coded errors built from them: each cause is one key (and region) with a
 * short reason (see failure-kind.ts); the error's code follows from the causes
 * ({@link codeForFailures}), so a deadline is ENVELOPE_TIMEOUT and a busy region
 * ENVELOPE_THROTTLED whichever keyring met it.
 */
import { EnvelopeError, describeFailures, type ErrorCode, type KeyFailure } from '@envelope/core';
import { codeForFailures, reasonOf } from './failure-kind.js';

/** One {@link KeyFailure} for a failed call with `key` in `region`. */
export function keyFailure(key: string, region: string | undefined, e: unknown): KeyFailure {
  return { key, region, reason: reasonOf(e), error: e };
}

/**
 * The failures an error stands for: its own `causes` when it is a multi-cause
 * {@link EnvelopeError}, otherwise one failure for `key` in `region`.
 */
export function failuresFrom(key: string, region: string | undefined, e: unknown): KeyFailure[] {
  if (e instanceof EnvelopeError && e.causes.length > 0) return [...e.causes];
  return [keyFailure(key, region, e)];
}

/**
 * One error for an operation that failed across `causes`: coded by {@link codeForFailures}
 * (ENVELOPE_TIMEOUT, ENVELOPE_THROTTLED, or `fallback`), its message `what` followed by each
 * key, region and reason.
 *
 * @example
 * ```ts
 * throw failedAcross('ENVELOPE_NO_DECRYPTABLE_KEY', 'no KMS key could decrypt the data key', causes);
 * ```
 */
export function failedAcross(fallback: ErrorCode, what: string, causes: readonly KeyFailure[], cause?: unknown): EnvelopeError {
  return new EnvelopeError(codeForFailures(causes, fallback), `${what}: ${describeFailures(causes)}`, {
    causes,
    ...(cause === undefined ? {} : { cause }),
  });
}
