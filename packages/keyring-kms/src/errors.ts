/** Classifies SDK and network failures into short, stable reasons. */
import { EnvelopeError } from '@envelope/core';

/** Reasons that mean the request may succeed if tried again (or elsewhere). */
const TRANSIENT = new Set([
  'ThrottlingException',
  'KMSInternalException',
  'ServiceUnavailableException',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'NetworkingError',
  'ENVELOPE_TIMEOUT',
]);

/** The exception name KMS sent, a network error code, or our error code. */
export function reasonOf(e: unknown): string {
  if (e instanceof EnvelopeError) return e.causes.length === 1 ? e.causes[0]!.reason : e.code;
  const err = e as { name?: string; code?: string; cause?: { code?: string }; $metadata?: { httpStatusCode?: number } };
  if (err?.code && /^E[A-Z]+$/.test(err.code)) return err.code;
  if (err?.cause?.code && /^E[A-Z]+$/.test(err.cause.code)) return err.cause.code;
  if (err?.name === 'AbortError') return 'Aborted';
  if (err?.name) return err.name;
  return 'Error';
}

export function isTransient(e: unknown): boolean {
  const r = reasonOf(e);
  if (TRANSIENT.has(r)) return true;
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}
