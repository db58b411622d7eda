/**
 * @envelope/keyring-local: raw AES and raw RSA keyrings, wire-compatible with the AWS
 * Encryption SDK's raw keyrings. For tests, offline use, and keys you manage yourself.
 */
export { RawAesKeyring } from './raw-aes-keyring.js';
export type { RawAesKeyringOptions, RawAesKeyringBase64Options } from './raw-aes-keyring.js';
export { RawRsaKeyring } from './raw-rsa-keyring.js';
export type { RawRsaKeyringOptions } from './raw-rsa-keyring.js';
export { MIN_RSA_BITS } from './rsa-key.js';
export type { RsaKeyInput } from './rsa-key.js';
export { RSA_PADDINGS, pkcs1DecryptAvailable } from './rsa-padding.js';
export type { RsaPadding } from './rsa-padding.js';
export { RAW_AES_IV_LENGTH, RAW_AES_TAG_LENGTH, parseRawAesProviderInfo, serializeRawAesProviderInfo } from './provider-info.js';
export type { RawAesProviderInfo } from './provider-info.js';
