/**
 * Raw RSA keyring (spec: framework/raw-rsa-keyring.md#raw-rsa-keyring): wraps the data key with RSA
 * under a local key pair. Wire-compatible with the AWS Encryption SDK's raw RSA keyrings
 * (`RawRsaKeyringNode` and its peers in other languages).
 */
import { privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import {
  invalidArgument,
  EnvelopeError,
  throwIfAborted,
  wipe,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';
import { MIN_RSA_BITS, loadRsaKey, modulusBits, samePublicKey, type RsaKeyInput } from './rsa-key.js';
import {
  PKCS1_HOW_TO_ENABLE,
  RSA_PADDINGS,
  isPkcs1Refusal,
  isRsaPadding,
  nodePadding,
  type NodeRsaPadding,
  type RsaPadding,
} from './rsa-padding.js';
import { dataKeyToWrap } from './data-key.js';
import { checkName, checkNamespace, noDecryptableKey, sameBytes } from './validate.js';

/**
 * The one reason every failed unwrap gives, whether the padding was bad, the key was wrong or the
 * unwrapped key had the wrong length: a padding oracle (Bleichenbacher, Marvin) feeds on the
 * difference (issue 15.i4). OpenSSL's own error is not passed on for the same reason.
 */
const UNWRAP_FAILED = 'RSA decryption failed';

/** Options for {@link RawRsaKeyring}. */
export interface RawRsaKeyringOptions {
  /** The key namespace, written as each EDK's provider id. Not "aws-kms". */
  keyNamespace: string;
  /** The key name, written as each EDK's provider info (UTF-8). */
  keyName: string;
  /**
   * The RSA public key, needed to encrypt. Never derived from `privateKey` behind your back
   * ("MUST NOT derive a public key from a specified private key":
   * (spec: framework/raw-rsa-keyring.md#onencrypt)); to encrypt and decrypt
   * with one PEM, pass it as both (the public half of a private key is then used).
   */
  publicKey?: RsaKeyInput | undefined;
  /** The RSA private key, needed to decrypt. A keyring without one only encrypts. */
  privateKey?: RsaKeyInput | undefined;
  /**
   * `'oaep-sha1' | 'oaep-sha256' | 'oaep-sha384' | 'oaep-sha512'` (OAEP, MGF1 with the same
   * hash), or `'pkcs1'` (PKCS#1 v1.5: discouraged, for compatibility with old messages only).
   * Must match the padding the EDKs were written with.
   */
  padding: RsaPadding;
  /**
   * Opt in to PKCS#1 v1.5 *decryption*, which is exposed to padding-oracle attacks
   * (Bleichenbacher, Marvin). Required when `padding` is `'pkcs1'` and a `privateKey` is given.
   * On Node 20 it also needs `node --security-revert=CVE-2023-46809`; see
   * {@link pkcs1DecryptAvailable}.
   */
  allowPkcs1Decrypt?: boolean | undefined;
  /**
   * Opt in to *decrypting* with an RSA key under 2048 bits ({@link MIN_RSA_BITS}), for messages
   * written long ago. Without it such keys are refused; with it, the keyring still refuses to wrap
   * new data keys under them (`onEncrypt` throws `ENVELOPE_KEYRING_FAILURE`).
   */
  allowSmallKeyDecrypt?: boolean | undefined;
}

/**
 * A keyring that wraps data keys with RSA under a key pair you hold
 * (spec: framework/raw-rsa-keyring.md#raw-rsa-keyring). Each EDK has provider id = `keyNamespace`,
 * provider info = the key name (UTF-8) and ciphertext = RSA-encrypt(data key). RSA does not bind
 * the encryption context; the message header authenticates it.
 *
 * - With only a public key it encrypts; on decrypt it throws `ENVELOPE_NO_DECRYPTABLE_KEY` (cause
 *   "no private key") when the EDKs include its own, and skips otherwise, so a public-only
 *   "recovery" keyring can sit in a `MultiKeyring` beside keyrings that do decrypt.
 * - With only a private key it decrypts; onEncrypt throws `ENVELOPE_KEYRING_FAILURE`.
 * - `'pkcs1'` padding: encrypting is allowed (for tests and compatibility; discouraged);
 *   decrypting needs `allowPkcs1Decrypt: true`, and on Node 20 the process flag
 *   `--security-revert=CVE-2023-46809` (else `ENVELOPE_UNSUPPORTED`).
 * - Keys under 2048 bits are refused; `allowSmallKeyDecrypt: true` accepts them for decrypting
 *   old messages only (wrapping under them is still refused).
 * - Every failed unwrap of its own EDK has the same cause, "RSA decryption failed", whatever failed.
 *
 * The keys are node KeyObjects: OpenSSL holds them, and they cannot be zeroized from JavaScript.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { RawRsaKeyring } from '@envelope/keyring-local';
 *
 * // Encrypt-only (e.g. an offline recovery key whose private half is in a vault):
 * const recovery = new RawRsaKeyring({ keyNamespace: 'backup', keyName: 'rsa-2024', publicKey: readFileSync('recovery.pub.pem', 'utf8'), padding: 'oaep-sha256' });
 * // Both directions:
 * const pem = readFileSync('rsa.pem', 'utf8');
 * const keyring = new RawRsaKeyring({ keyNamespace: 'my-app', keyName: 'rsa-1', publicKey: pem, privateKey: pem, padding: 'oaep-sha256' });
 * ```
 */
export class RawRsaKeyring implements Keyring {
  /** The provider id of the EDKs this keyring writes and reads. */
  readonly keyNamespace: string;
  /** The provider info (as text) of the EDKs it writes and reads. */
  readonly keyName: string;
  /** The padding scheme. */
  readonly padding: RsaPadding;
  readonly #nameBytes: Uint8Array;
  readonly #publicKey: KeyObject | undefined;
  readonly #privateKey: KeyObject | undefined;
  readonly #nodePadding: NodeRsaPadding;
  /** The public key is big enough to wrap under (at least {@link MIN_RSA_BITS}). */
  readonly #canWrap: boolean;

  /** @throws `ENVELOPE_INVALID_ARGUMENT` naming the bad option. */
  constructor(options: RawRsaKeyringOptions) {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
    this.keyNamespace = checkNamespace(options.keyNamespace, 'keyNamespace');
    this.keyName = checkName(options.keyName, 'keyName');
    if (!isRsaPadding(options.padding)) throw invalidArgument('padding', `expected one of ${RSA_PADDINGS.join(', ')}`);
    this.padding = options.padding;
    this.#nodePadding = nodePadding(this.padding);
    if (options.publicKey === undefined && options.privateKey === undefined) {
      throw invalidArgument('publicKey', 'give publicKey (to encrypt), privateKey (to decrypt) or both');
    }
    this.#publicKey = options.publicKey === undefined ? undefined : loadRsaKey(options.publicKey, 'public', 'publicKey');
    this.#privateKey = options.privateKey === undefined ? undefined : loadRsaKey(options.privateKey, 'private', 'privateKey');
    if (options.allowSmallKeyDecrypt !== undefined && typeof options.allowSmallKeyDecrypt !== 'boolean')
      throw invalidArgument('allowSmallKeyDecrypt', 'expected true or false');
    const allowSmall = options.allowSmallKeyDecrypt === true;
    for (const [param, key] of [
      ['publicKey', this.#publicKey],
      ['privateKey', this.#privateKey],
    ] as const) {
      if (key !== undefined && modulusBits(key) < MIN_RSA_BITS && !allowSmall)
        throw invalidArgument(
          param,
          `a ${modulusBits(key)}-bit RSA key is too small (at least ${MIN_RSA_BITS} bits); to decrypt old messages with it, set allowSmallKeyDecrypt: true (it will not wrap new data keys)`,
        );
    }
    this.#canWrap = this.#publicKey !== undefined && modulusBits(this.#publicKey) >= MIN_RSA_BITS;
    if (this.#publicKey && this.#privateKey && !samePublicKey(this.#publicKey, this.#privateKey)) {
      throw invalidArgument('publicKey', 'does not match privateKey');
    }
    if (this.padding === 'pkcs1' && this.#privateKey && options.allowPkcs1Decrypt !== true) {
      throw invalidArgument(
        'allowPkcs1Decrypt',
        'PKCS#1 v1.5 decryption is exposed to padding-oracle attacks; set allowPkcs1Decrypt: true to accept that risk, or give only a publicKey',
      );
    }
    this.#nameBytes = new TextEncoder().encode(this.keyName);
  }

  /** `<namespace>/<name>`, as used in error causes. */
  get keyId(): string {
    return `${this.keyNamespace}/${this.keyName}`;
  }

  /** True when the keyring has a public key it may wrap under (at least 2048 bits). */
  get canEncrypt(): boolean {
    return this.#canWrap;
  }

  /** True when the keyring has a private key. */
  get canDecrypt(): boolean {
    return this.#privateKey !== undefined;
  }

  /**
   * Generates the data key if the materials have none, then wraps it with the public key and
   * adds the EDK (spec: framework/raw-rsa-keyring.md#onencrypt).
   *
   * @throws `ENVELOPE_KEYRING_FAILURE` without a public key, or with one under 2048 bits
   *   (checked before the materials change), or if RSA encryption fails.
   */
  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    throwIfAborted(options?.signal);
    const publicKey = this.#publicKey;
    if (!publicKey) {
      throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', `raw RSA keyring ${this.keyId} has no public key, so it cannot encrypt`, {
        causes: [{ key: this.keyId, reason: 'no public key' }],
      });
    }
    if (!this.#canWrap) {
      const bits = modulusBits(publicKey);
      throw new EnvelopeError(
        'ENVELOPE_KEYRING_FAILURE',
        `raw RSA keyring ${this.keyId}: a ${bits}-bit key is too small to wrap data keys (at least ${MIN_RSA_BITS} bits); it only decrypts old messages`,
        { causes: [{ key: this.keyId, reason: `${bits}-bit key too small to wrap` }] },
      );
    }
    const dataKey = dataKeyToWrap(materials);
    let ciphertext: Uint8Array;
    try {
      ciphertext = publicEncrypt({ key: publicKey, ...this.#nodePadding }, dataKey);
    } catch (error) {
      throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', `raw RSA keyring ${this.keyId}: RSA encryption failed`, {
        cause: error,
        causes: [{ key: this.keyId, reason: 'RSA encryption failed', error }],
      });
    } finally {
      wipe(dataKey);
    }
    materials.addEncryptedDataKey({ providerId: this.keyNamespace, providerInfo: this.#nameBytes.slice(), ciphertext });
    return materials;
  }

  /**
   * Unwraps the first EDK of its own (provider id = namespace, provider info = key name) that
   * decrypts to a data key of the suite's length (spec: framework/raw-rsa-keyring.md#ondecrypt).
   * Materials that already have a data key are returned unchanged.
   *
   * @throws `ENVELOPE_NO_DECRYPTABLE_KEY` with one cause per own EDK when none unwraps (including
   *   when this keyring has no private key); `ENVELOPE_UNSUPPORTED` when the padding is `'pkcs1'`
   *   and this Node.js refuses PKCS#1 v1.5 decryption.
   */
  async onDecrypt(
    materials: DecryptionMaterials,
    encryptedDataKeys: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    throwIfAborted(options?.signal);
    const mine = encryptedDataKeys.filter((e) => e.providerId === this.keyNamespace && sameBytes(e.providerInfo, this.#nameBytes));
    if (mine.length === 0) return materials;
    const privateKey = this.#privateKey;
    if (!privateKey) {
      throw noDecryptableKey(
        'raw RSA key',
        this.keyId,
        mine.map(() => ({ key: this.keyId, reason: 'no private key (this keyring only encrypts)' })),
      );
    }
    const causes: KeyFailure[] = [];
    for (const edk of mine) {
      let dataKey: Buffer;
      try {
        dataKey = privateDecrypt({ key: privateKey, ...this.#nodePadding }, edk.ciphertext);
      } catch (error) {
        if (this.padding === 'pkcs1' && isPkcs1Refusal(error)) {
          throw new EnvelopeError('ENVELOPE_UNSUPPORTED', `raw RSA keyring ${this.keyId}: ${PKCS1_HOW_TO_ENABLE}`, {
            cause: error,
            causes: [
              { key: this.keyId, reason: 'PKCS#1 v1.5 decryption disabled in this Node.js (--security-revert=CVE-2023-46809)', error },
            ],
          });
        }
        causes.push({ key: this.keyId, reason: UNWRAP_FAILED });
        continue;
      }
      try {
        // PKCS#1 v1.5 with implicit rejection "decrypts" a wrong ciphertext to random bytes; the
        // length check catches most of those before they reach the materials. Same reason as a
        // failed decryption: the two must not be told apart (15.i4).
        if (dataKey.byteLength !== materials.suite.keyLength) {
          causes.push({ key: this.keyId, reason: UNWRAP_FAILED });
          continue;
        }
        materials.setDataKey(dataKey);
      } finally {
        wipe(dataKey);
      }
      return materials;
    }
    throw noDecryptableKey('raw RSA key', this.keyId, causes);
  }
}
