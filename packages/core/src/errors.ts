/**
 * Coded errors. Every error this library throws on purpose is an {@link EnvelopeError} with a
 * stable `code`; tests and callers branch on the code, never on the message.
 */

/** The stable error codes. New codes may be added; existing codes keep their meaning. */
export type ErrorCode =
  /** A caller-supplied argument is invalid (names the parameter). */
  | 'ENVELOPE_INVALID_ARGUMENT'
  /** The message is not a well-formed AWS Encryption SDK message (or is truncated). */
  | 'ENVELOPE_MALFORMED_MESSAGE'
  /**
   * The input is not an envelope message at all: it is empty, or its first byte is no message
   * format version (a random or plaintext file, or a base64-encoded message).
   */
  | 'ENVELOPE_NOT_A_MESSAGE'
  /** A tag, commitment or signature check failed. One fixed message, never which check. */
  | 'ENVELOPE_AUTHENTICATION_FAILED'
  /** A version, suite, content type or feature this library does not support. */
  | 'ENVELOPE_UNSUPPORTED'
  /** The commitment policy forbids this suite for this operation. */
  | 'ENVELOPE_COMMITMENT_POLICY'
  /** The caller's encryption context does not match the message's. */
  | 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH'
  /** A configured bound was exceeded (EDK count, frame length, context size...). */
  | 'ENVELOPE_LIMIT_EXCEEDED'
  /** No keyring could unwrap any encrypted data key; `causes` lists each attempt. */
  | 'ENVELOPE_NO_DECRYPTABLE_KEY'
  /** A keyring failed while generating or wrapping a data key; `causes` lists each failure. */
  | 'ENVELOPE_KEYRING_FAILURE'
  /** Materials were misused (key set twice, read after zeroization, wrong suite, ...). */
  | 'ENVELOPE_MATERIALS'
  /** The caller's AbortSignal fired. */
  | 'ENVELOPE_ABORTED'
  /** A deadline passed. */
  | 'ENVELOPE_TIMEOUT'
  /** Every region that could serve the call was at its request quota until the deadline (load, not ill health). */
  | 'ENVELOPE_THROTTLED'
  /** Rewrap refused (e.g. it would remove the last key the caller can decrypt with). */
  | 'ENVELOPE_REWRAP_REFUSED'
  /** Configuration failed validation. */
  | 'ENVELOPE_CONFIG'
  /** A KMS call failed (keyring-kms). */
  | 'ENVELOPE_KMS'
  /**
   * A branch key store (keyring-hierarchical) failed: a missing key or version, an item that is
   * malformed or tampered with, a table without the key-store schema, a KMS key that is not the
   * store's, or DynamoDB unreachable. Names the branch key; `causes[0].reason` says which.
   */
  | 'ENVELOPE_KEY_STORE'
  /** An internal invariant broke: a bug. */
  | 'ENVELOPE_INTERNAL';

/** One failed attempt in a multi-key operation: which key, where, and why. */
export interface KeyFailure {
  /** Provider id and key name / ARN the attempt used. */
  readonly key: string;
  /** Region for KMS keys; undefined for local keys. */
  readonly region?: string | undefined;
  /** Short reason, e.g. the KMS exception name or our error code. */
  readonly reason: string;
  /** The error itself, when there is one. */
  readonly error?: unknown;
}

/** The mark every EnvelopeError carries, shared by every copy of this package in a process. */
const ENVELOPE_ERROR = Symbol.for('envelope.error');

/**
 * Base class for every error this library throws on purpose.
 *
 * `instanceof EnvelopeError` holds for an error from any copy of @envelope/core in the process:
 * the bundled CLI carries its own copy, and a keyring plugin throws errors from the installed one
 * (docs/plugins.md); both must read as coded errors. It checks a registered symbol, the way config
 * modules are recognised across copies.
 */
export class EnvelopeError extends Error {
  readonly code: ErrorCode;
  /** For multi-key failures: each key tried and why it failed. */
  readonly causes: readonly KeyFailure[];

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; causes?: readonly KeyFailure[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnvelopeError';
    this.code = code;
    this.causes = options?.causes ?? [];
    Object.defineProperty(this, ENVELOPE_ERROR, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass keeps the ordinary prototype check.
    if (this !== EnvelopeError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ENVELOPE_ERROR] === true;
  }
}

/** The single error for every failed authentication check of a message (jose-style: no detail). */
export const AUTH_FAILED_MESSAGE = 'message authentication failed';

export function authenticationFailed(): EnvelopeError {
  return new EnvelopeError('ENVELOPE_AUTHENTICATION_FAILED', AUTH_FAILED_MESSAGE);
}

export function malformed(what: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', `malformed message: ${what}`);
}

/** The input is not an envelope message at all (see the `ENVELOPE_NOT_A_MESSAGE` code). */
export function notAMessage(why: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_NOT_A_MESSAGE', `not an envelope message: ${why}`);
}

/**
 * The error for a bad argument caught at the edge: `ENVELOPE_INVALID_ARGUMENT` with the message
 * `<param>: <problem>`, so the message names the parameter (never its value when that may be
 * secret).
 *
 * @example
 * ```ts
 * if (!Number.isInteger(n) || n < 1) throw invalidArgument('maxEntries', 'expected a positive integer');
 * ```
 */
export function invalidArgument(param: string, problem: string, options?: { cause?: unknown }): EnvelopeError {
  return new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${param}: ${problem}`, options);
}

export function limitExceeded(what: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_LIMIT_EXCEEDED', what);
}

/**
 * For catch blocks that turn failures into something else (a "not mine", a list of causes, a
 * refusal): rethrows `e` if it is the caller's abort, which must reach the caller as it is.
 *
 * @example
 * ```ts
 * try { await keyring.onDecrypt(m, edks, options); } catch (e) { rethrowIfAborted(e); causes.push(...failuresOf(e)); }
 * ```
 */
export function rethrowIfAborted(e: unknown): void {
  if (isAborted(e)) throw e;
}

/**
 * Whether `e` is the caller's abort (`ENVELOPE_ABORTED`): for code that passes it on as it is
 * rather than rethrowing it at once (see {@link rethrowIfAborted}).
 *
 * @example
 * ```ts
 * const settled = await Promise.allSettled(calls);
 * const abort = settled.find((r) => r.status === 'rejected' && isAborted(r.reason));
 * ```
 */
export function isAborted(e: unknown): e is EnvelopeError {
  return e instanceof EnvelopeError && e.code === 'ENVELOPE_ABORTED';
}

/**
 * The error for an aborted signal: its reason as it is when that is already our `ENVELOPE_TIMEOUT`
 * or `ENVELOPE_ABORTED` (a deadline or an abort further up, which must keep its code), otherwise
 * `ENVELOPE_ABORTED` with the reason as its cause.
 */
export function abortedError(signal: AbortSignal | undefined): EnvelopeError {
  const r: unknown = signal?.reason;
  if (r instanceof EnvelopeError && (r.code === 'ENVELOPE_TIMEOUT' || r.code === 'ENVELOPE_ABORTED')) return r;
  return new EnvelopeError('ENVELOPE_ABORTED', 'aborted by the caller', { cause: r });
}

/** Throws ENVELOPE_ABORTED if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/** Formats a list of key failures for an error message (no key material, ever). */
export function describeFailures(causes: readonly KeyFailure[]): string {
  return causes.map((c) => `${c.key}${c.region ? ` (${c.region})` : ''}: ${c.reason}`).join('; ');
}

export function isEnvelopeError(e: unknown, code?: ErrorCode): e is EnvelopeError {
  return e instanceof EnvelopeError && (code === undefined || e.code === code);
}
