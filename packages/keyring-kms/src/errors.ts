/**
 * Classifies SDK, network and deadline failures into short, stable reasons (the KMS exception
 * name, a Node network error code, `TimeoutError`, `Aborted`, or a check of ours such as
 * `KeyIdMismatch`), and says which are worth retrying.
 */
import { EnvelopeError, type KeyFailure } from '@envelope/core';

/** Reasons that mean the same request may succeed if tried again (or in another region). */
const TRANSIENT = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/**
 * Answers that will not change on a retry, whatever the HTTP status says: the key, the grant,
 * the ciphertext or the request is wrong.
 */
const PERMANENT = new Set([
  'AccessDeniedException',
  'DisabledException',
  'NotFoundException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'InvalidGrantTokenException',
  'KMSInvalidStateException',
  'ValidationException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'KeyIdMismatch',
  'MalformedResponse',
  'InvalidArn',
  'Aborted',
]);

const NETWORK_CODE = /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/;

/**
 * A short reason for a failed KMS call: the exception name KMS sent
 * (`AccessDeniedException`, `DisabledException`, `NotFoundException`,
 * `InvalidCiphertextException`, `ThrottlingException`, …), a network error code
 * (`ECONNRESET`, …), `TimeoutError` for a deadline or an HTTP request timeout, `Aborted` for the
 * caller's signal, or the reason an {@link EnvelopeError} already carries.
 *
 * @example
 * ```ts
 * try { await keyring.onDecrypt(m, edks); } catch (e) { console.log(reasonOf(e)); } // 'AccessDeniedException'
 * ```
 */
export function reasonOf(e: unknown): string {
  if (e instanceof EnvelopeError) {
    if (e.causes.length === 1) return e.causes[0]!.reason;
    if (e.code === 'ENVELOPE_TIMEOUT') return 'TimeoutError';
    if (e.code === 'ENVELOPE_ABORTED') return 'Aborted';
    return e.code;
  }
  const err = e as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | null | undefined;
  // The SDK names both its request timeouts (code ETIMEDOUT) and dropped connections (code
  // ECONNRESET, …) `TimeoutError`; the code tells them apart.
  const code =
    typeof err?.code === 'string' && NETWORK_CODE.test(err.code)
      ? err.code
      : typeof err?.cause?.code === 'string' && NETWORK_CODE.test(err.cause.code)
        ? err.cause.code
        : undefined;
  if (code === 'ETIMEDOUT' || (err?.name === 'TimeoutError' && code === undefined)) return 'TimeoutError';
  if (code) return code;
  if (err?.name === 'AbortError') return 'Aborted';
  if (typeof err?.name === 'string' && err.name !== 'Error') return err.name;
  return 'Error';
}

/**
 * True when a retry (or another region) may succeed: throttling, KMS internal errors, 5xx and
 * 429 answers, timeouts and connection errors. Never for AccessDenied, Disabled, NotFound,
 * InvalidCiphertext, IncorrectKey, Validation, a KeyId mismatch, or the caller's abort.
 */
export function isTransient(e: unknown): boolean {
  const r = reasonOf(e);
  if (PERMANENT.has(r)) return false;
  if (TRANSIENT.has(r)) return true;
  const status = (e as { $metadata?: { httpStatusCode?: unknown } } | null | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

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
