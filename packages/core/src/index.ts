/**
 * @envelope/core: the AWS Encryption SDK message format, materials, keyring contracts,
 * encrypt/decrypt (buffers and streams) and rewrap.
 */
export {
  EnvelopeError,
  isEnvelopeError,
  describeFailures,
  throwIfAborted,
  rethrowIfAborted,
  isAborted,
  abortedError,
  invalidArgument,
  AUTH_FAILED_MESSAGE,
} from './errors.js';
export type { ErrorCode, KeyFailure } from './errors.js';
export { SUITES, DEFAULT_SUITE_ID, getSuite, formatSuiteId } from './suites.js';
export type { AlgorithmSuite, HashName, CurveName } from './suites.js';
export { setSigningKeyPoolSize } from './crypto/signature.js';
export { DEFAULT_COMMITMENT_POLICY, parseCommitmentPolicy } from './commitment-policy.js';
export type { CommitmentPolicy } from './commitment-policy.js';
export {
  PUBLIC_KEY_CONTEXT_KEY,
  checkEncryptionContext,
  encryptionContextFromPairs,
  serializeEncryptionContext,
  serializeEncryptionContextInOrder,
  deserializeEncryptionContext,
} from './encryption-context.js';
export type { EncryptionContext } from './encryption-context.js';
export { EncryptionMaterials, DecryptionMaterials } from './materials/materials.js';
export type { EncryptionMaterialsInit, DecryptionMaterialsInit, EncryptionWarning } from './materials/materials.js';
export { providerInfoText } from './materials/encrypted-data-key.js';
export type { EncryptedDataKey } from './materials/encrypted-data-key.js';
export type { MaterialsManager, EncryptionMaterialsRequest, DecryptionMaterialsRequest } from './materials/materials-manager.js';
export { DefaultMaterialsManager } from './materials/default-materials-manager.js';
export { RequiredEncryptionContextMaterialsManager } from './materials/required-encryption-context-materials-manager.js';
export type { RequiredEncryptionContextOptions } from './materials/required-encryption-context-materials-manager.js';
export type { Keyring, KeyringCallOptions } from './keyring/keyring.js';
export { MultiKeyring, failuresOf } from './keyring/multi-keyring.js';
export type { MultiKeyringOptions } from './keyring/multi-keyring.js';
export { wipe } from './bytes.js';
export { encrypt } from './encrypt.js';
export type { EncryptResult } from './encrypt.js';
export { decrypt } from './decrypt.js';
export type { DecryptResult } from './decrypt.js';
export type { EncryptOptions, DecryptOptions, KeySource } from './options.js';
export { DEFAULT_FRAME_LENGTH, DEFAULT_STREAM_FRAME_LENGTH, DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_FRAME_LENGTH } from './options.js';
export type { MessageInfo } from './message/message-info.js';
export { encryptStream, decryptStream, encryptWebStream, decryptWebStream } from './stream.js';
export type { ParallelStreamOption } from './stream.js';
export { FramePool } from './parallel/frame-pool.js';
export type { FramePoolOptions } from './parallel/frame-pool.js';
export type { ParallelOptions } from './parallel/in-order.js';
export { StreamEncryptor } from './message/stream-encryptor.js';
export type { EncryptStreamOptions } from './message/stream-encryptor.js';
export { StreamDecryptor, DEFAULT_MAX_BUFFERED_PLAINTEXT } from './message/stream-decryptor.js';
export type { DecryptStreamOptions } from './message/stream-decryptor.js';
export { parseHeader, HeaderParser, readMessageHeader } from './format/header-parser.js';
export { DEFAULT_MAX_HEADER_LENGTH } from './format/header.js';
export type { MessageHeader, ParsedHeader, HeaderLimits } from './format/header.js';
export { rewrap, rewrapStream } from './rewrap.js';
export { verifyHeader } from './message/verify-header.js';
export type { RewrapOptions, RewrapResult, RewrapMode, RewrapSummary } from './rewrap.js';
