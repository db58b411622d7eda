/**
 * What a failed KMS call says about the region, the key, or the request: the one judgement
 * that retries, circuit breakers, quota pacing and error codes share (the KMS keyrings and
 * the multi-region keyring call it; nothing else classifies failures).
 *
 * - `region`: the region (or the way to it) is ill: DNS (ENOTFOUND, EAI_AGAIN), connect
 *   (ECONNREFUSED, EHOSTUNREACH, …), TLS (certificate and handshake errors), socket (ECONNRESET,
 *   EPIPE, …), 5xx answers, timeouts. Counts against the region's health; worth a retry or
 *   another region.
 * - `load`: throttled (ThrottlingException, 429, or our own pacer). The region is healthy but
 *   busy: never counts against its health; worth a paced retry.
 * - `unavailable`: not tried, because the region's circuit breaker is open.
 * - `key`: this key cannot do it (AccessDenied, Disabled, NotFound, KMSInvalidState, …).
 * - `request`: this request is wrong (InvalidCiphertext, Validation, a bad signature, a
 *   malformed answer, an EDK that names no key ARN, the attempt cap).
 * - `caller`: the caller aborted.
 * - `unknown`: anything else (not retried, not counted).
 */
import { EnvelopeError, type ErrorCode, type KeyFailure } from '@envelope/core';

export type FailureKind = 'region' | 'load' | 'unavailable' | 'key' | 'request' | 'caller' | 'unknown';

/** A failure's short reason and what it says. */
export interface FailureVerdict {
  readonly reason: string;
  readonly kind: FailureKind;
}

/** The reason a breaker-open region carries when a call to it fails at once. */
export const CIRCUIT_OPEN = 'CircuitOpen';
/** The reason of a call that waited for the region's quota (our pacer) until its deadline. */
export const CLIENT_THROTTLED = 'Throttled';
/** The reason of a hedged call that lost the race after its hedge delay (the region was slow). */
export const SLOW = 'slow';
/** The reason recorded when a keyring's cap on decrypt attempts stopped it (issue 15.11). */
export const ATTEMPT_LIMIT = 'AttemptLimit';

const BY_REASON = new Map<string, FailureKind>();
const add = (kind: FailureKind, reasons: readonly string[]): void => reasons.forEach((r) => BY_REASON.set(r, kind));
add('region', [
  // Deadlines and HTTP-level timeouts.
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  SLOW,
  // KMS's own 5xx answers.
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'NetworkingError',
  // DNS.
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'ESERVFAIL',
  'ECONNREFUSED',
  // Connect and routing.
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  // Socket.
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EPROTO',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
add('load', [
  'ThrottlingException',
  'TooManyRequestsException',
  'ThrottledException',
  'RequestLimitExceeded',
  // DynamoDB's (the hierarchical keyring's key store).
  'ProvisionedThroughputExceededException',
  CLIENT_THROTTLED,
]);
add('unavailable', [CIRCUIT_OPEN]);
add('key', [
  'AccessDeniedException',
  'DisabledException',
  'NotFoundException',
  'KMSInvalidStateException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'InvalidGrantTokenException',
  'KeyUnavailableException',
  'KeyIdMismatch',
]);
add('request', [
  'InvalidCiphertextException',
  'ValidationException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'ExpiredTokenException',
  'SerializationException',
  'MalformedResponse',
  'InvalidArn',
  'NotAKeyArn',
  ATTEMPT_LIMIT,
]);
add('caller', ['Aborted']);

/** Timeouts among the region reasons: a failure that lists one is reported as ENVELOPE_TIMEOUT. */
const DEADLINE_REASONS = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** TLS failures (certificate and handshake): the way to the region is broken. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;
/** Node system and undici error codes, as the SDK's HTTP handler passes them through. */
const SYSTEM_CODE =
  /^(E[A-Z0-9_]+|UND_ERR_[A-Z_]+|ERR_[A-Z0-9_]+|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)$/;

type ErrorShape = { name?: unknown; code?: unknown; cause?: unknown; $metadata?: { httpStatusCode?: unknown } } | null | undefined;

function systemCode(e: ErrorShape): string | undefined {
  // The code may sit on the error or on its cause (fetch/undici wrap the socket error).
  for (let x: ErrorShape = e, depth = 0; x && depth < 3; x = x.cause as ErrorShape, depth++) {
    if (typeof x.code === 'string' && SYSTEM_CODE.test(x.code)) return x.code;
  }
  return undefined;
}

/**
 * A short, stable reason for a failed call: the exception name KMS sent
 * (`AccessDeniedException`, `ThrottlingException`, …), a Node network or TLS error code
 * (`ENOTFOUND`, `ECONNRESET`, `CERT_HAS_EXPIRED`, …), `TimeoutError` for a deadline or an HTTP
 * request timeout, `Aborted` for the caller's signal, or the reason an {@link EnvelopeError}
 * already carries (its single cause's, else one for its code).
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
    if (e.code === 'ENVELOPE_THROTTLED') return CLIENT_THROTTLED;
    return e.code;
  }
  const err = e as ErrorShape;
  const code = systemCode(err);
  // The SDK names both its request timeouts (code ETIMEDOUT or none) and dropped connections
  // (ECONNRESET, EPIPE) `TimeoutError`: the code tells them apart.
  if (code === 'ETIMEDOUT' || (err?.name === 'TimeoutError' && code === undefined)) return 'TimeoutError';
  if (code) return code;
  if (err?.name === 'AbortError') return 'Aborted';
  if (typeof err?.name === 'string' && err.name !== 'Error') return err.name;
  return 'Error';
}

/** What a reason says (see the module comment); `httpStatus` decides for names we do not know. */
export function kindOfReason(reason: string, httpStatus?: number): FailureKind {
  const known = BY_REASON.get(reason);
  if (known) return known;
  if (TLS_CODE.test(reason)) return 'region';
  if (httpStatus === 429) return 'load';
  if (httpStatus !== undefined && httpStatus >= 500) return 'region';
  if (httpStatus !== undefined && httpStatus >= 400) return 'request';
  return 'unknown';
}

/**
 * Classifies a failure: its {@link reasonOf reason} and what it says about the region, the
 * key or the request.
 *
 * @example
 * ```ts
 * classifyFailure(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
 * // { reason: 'ENOTFOUND', kind: 'region' }
 * ```
 */
export function classifyFailure(e: unknown): FailureVerdict {
  const reason = reasonOf(e);
  const status = (e as ErrorShape)?.$metadata?.httpStatusCode;
  return { reason, kind: kindOfReason(reason, typeof status === 'number' ? status : undefined) };
}

/** True when the failure counts against the region's health (kind `region`). */
export function countsAgainstRegion(e: unknown): boolean {
  return classifyFailure(e).kind === 'region';
}

/**
 * True when a retry (in place or in another region) may succeed: kinds `region` and `load`.
 * Never for a key or request refusal, or the caller's abort.
 */
export function isTransient(e: unknown): boolean {
  const k = classifyFailure(e).kind;
  return k === 'region' || k === 'load';
}

/**
 * The code for an operation that failed with these causes (one per key or region tried):
 * ENVELOPE_THROTTLED when a region that was tried was only busy and none refused (the others
 * down, timed out or skipped with an open breaker: the limit is the survivor's quota);
 * otherwise ENVELOPE_TIMEOUT when any cause is a deadline (a key's refusal beside a timeout
 * still gives ENVELOPE_TIMEOUT: another try may succeed); otherwise `fallback` (e.g.
 * ENVELOPE_NO_DECRYPTABLE_KEY for decrypt, ENVELOPE_KEYRING_FAILURE for encrypt).
 */
export function codeForFailures(causes: readonly KeyFailure[], fallback: ErrorCode): ErrorCode {
  const kinds = causes.map((c) => kindOfReason(c.reason));
  if (kinds.includes('load') && kinds.every((k) => k === 'load' || k === 'region' || k === 'unavailable')) return 'ENVELOPE_THROTTLED';
  if (causes.some((c) => DEADLINE_REASONS.has(c.reason))) return 'ENVELOPE_TIMEOUT';
  return fallback;
}

/** True for a reason that is a deadline (TimeoutError and the HTTP timeouts). */
export function isDeadlineReason(reason: string): boolean {
  return DEADLINE_REASONS.has(reason);
}
