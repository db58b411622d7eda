/**
 * KMS-style errors: the service's exception names (the `__type` of an AWS JSON 1.1 error body) and
 * HTTP statuses. Names come from the KMS API reference and the client-kms models; almost every
 * client error is HTTP 400, only KMSInternalException is 500.
 */

/** Exception names kms-local answers with (the service's own spelling). */
export type KmsErrorType =
  | 'AccessDeniedException'
  | 'AlreadyExistsException'
  | 'DisabledException'
  | 'IncompleteSignatureException'
  | 'IncorrectKeyException'
  | 'InvalidCiphertextException'
  | 'InvalidKeyUsageException'
  | 'InvalidMarkerException'
  | 'InvalidSignatureException'
  | 'KMSInternalException'
  | 'KMSInvalidStateException'
  | 'MissingAuthenticationTokenException'
  | 'NotFoundException'
  | 'SerializationException'
  | 'ThrottlingException'
  | 'UnknownOperationException'
  | 'UnrecognizedClientException'
  | 'UnsupportedOperationException'
  | 'ValidationException';

/**
 * An error answered to the client as `{"__type": type, "message": message}` with `status`.
 * Messages never carry key material or plaintext.
 */
export class KmsError extends Error {
  constructor(
    readonly type: KmsErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** NotFoundException for a key or alias (the service says "… is not found."). */
export const notFound = (what: string): KmsError => new KmsError('NotFoundException', `${what} is not found.`);

/** ValidationException with the service's "1 validation error detected" phrasing. */
export const validation = (field: string, constraint: string): KmsError =>
  new KmsError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`);

/** The one answer for every ciphertext that does not authenticate: it does not say which check failed. */
export const invalidCiphertext = (): KmsError => new KmsError('InvalidCiphertextException', 'The ciphertext is invalid.');

/** Anything unexpected becomes a 500 without echoing internals. */
export const internal = (): KmsError => new KmsError('KMSInternalException', 'An internal error occurred.', 500);
