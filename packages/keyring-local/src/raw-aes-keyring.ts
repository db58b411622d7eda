/**
 * Raw AES keyring (spec: framework/raw-aes-keyring.md#raw-aes-keyring): wraps the data key with
 * AES-GCM under a local wrapping key, binding the encryption context as AAD. Wire-compatible with
 * the AWS Encryption SDK's raw AES keyrings (`RawAesKeyringNode` and its peers in other languages).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  invalidArgument,
  EnvelopeError,
  serializeEncryptionContext,
  serializeEncryptionContextInOrder,
  throwIfAborted,
  wipe,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionContext,
  type EncryptionMaterials,
  type KeyFailure,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';
import { RAW_AES_IV_LENGTH, RAW_AES_TAG_LENGTH, parseRawAesProviderInfo, serializeRawAesProviderInfo } from './provider-info.js';
import { dataKeyToWrap } from './data-key.js';
import { checkName, checkNamespace, noDecryptableKey, sameBytes } from './validate.js';

/** Options for {@link RawAesKeyring}. */
export interface RawAesKeyringOptions {
  /** The key namespace, written as each EDK's provider id. Not "aws-kms". */
  keyNamespace: string;
  /** The key name, written at the start of each EDK's provider info. */
  keyName: string;
  /**
   * 16, 24 or 32 random bytes: AES-128/192/256-GCM. The keyring keeps its own copy, so wipe
   * yours when you are done with it.
   */
  wrappingKey: Uint8Array;
}

/** Options for {@link RawAesKeyring.fromBase64}: the wrapping key as standard base64 text. */
export interface RawAesKeyringBase64Options {
  keyNamespace: string;
  keyName: string;
  /** Standard (RFC 4648 §4) base64 of 16, 24 or 32 bytes; whitespace is ignored. */
  wrappingKey: string;
}

type AesGcm = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
const CIPHERS: Readonly<Record<number, AesGcm>> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The AADs to try on decrypt: the spec's serialization (keys sorted by UTF-8 bytes), then, when
 * it differs, the AWS Encryption SDK for JavaScript's legacy order (`localeCompare`, its
 * `utf8Sorting: false` default), so EDKs written by that SDK's RawAesKeyringNode unwrap too.
 * Both encode the same pairs: accepting either order authenticates exactly the same context.
 */
function aadCandidates(context: EncryptionContext): Iterable<Uint8Array> {
  let spec: Uint8Array | undefined;
  let legacy: Uint8Array | null | undefined;
  return {
    *[Symbol.iterator]() {
      yield (spec ??= serializeEncryptionContext(context));
      // Only reached when the spec order did not authenticate: the legacy order costs a
      // localeCompare sort and a second serialization, which most decrypts never need.
      if (legacy === undefined) {
        const l = serializeEncryptionContextInOrder(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)));
        legacy = sameBytes(spec, l) ? null : l;
      }
      if (legacy) yield legacy;
    },
  };
}

/**
 * A keyring that wraps data keys with AES-GCM under a key you hold
 * (spec: framework/raw-aes-keyring.md#raw-aes-keyring). Each EDK has provider id = `keyNamespace`,
 * provider info = key name ‖ tag bits ‖ IV length ‖ IV, and ciphertext = wrapped key ‖ tag; the AAD
 * is the serialized encryption context of the materials, so an EDK only unwraps under the same
 * context.
 *
 * On decrypt it tries only EDKs with its namespace, its exact key name and the 128-bit tag and
 * 12-byte IV it uses; others are "not mine" and skipped silently. When some of its own EDKs fail
 * and none unwraps, it throws `ENVELOPE_NO_DECRYPTABLE_KEY` with one cause per EDK.
 *
 * The wrapping key lives in a private buffer of its own; {@link RawAesKeyring.destroy} zeroes it.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * import { encrypt, decrypt } from '@envelope/core';
 * import { RawAesKeyring } from '@envelope/keyring-local';
 *
 * const wrappingKey = randomBytes(32); // keep it somewhere safe
 * const keyring = new RawAesKeyring({ keyNamespace: 'my-app', keyName: 'key-1', wrappingKey });
 * wrappingKey.fill(0);
 * const { ciphertext } = await encrypt(data, { keyring, encryptionContext: { purpose: 'demo' } });
 * const { plaintext } = await decrypt(ciphertext, { keyring });
 * ```
 */
export class RawAesKeyring implements Keyring {
  /** The provider id of the EDKs this keyring writes and reads. */
  readonly keyNamespace: string;
  /** The key name at the start of the provider info of the EDKs it writes and reads. */
  readonly keyName: string;
  readonly #nameBytes: Uint8Array;
  readonly #key: Uint8Array;
  readonly #cipher: AesGcm;
  #destroyed = false;

  /** @throws `ENVELOPE_INVALID_ARGUMENT` naming the bad option. */
  constructor(options: RawAesKeyringOptions) {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
    this.keyNamespace = checkNamespace(options.keyNamespace, 'keyNamespace');
    this.keyName = checkName(options.keyName, 'keyName');
    const k: unknown = options.wrappingKey;
    if (!(k instanceof Uint8Array)) throw invalidArgument('wrappingKey', 'expected a Uint8Array');
    const cipher = CIPHERS[k.byteLength];
    if (!cipher) throw invalidArgument('wrappingKey', `expected 16, 24 or 32 bytes (AES-128/192/256), got ${k.byteLength}`);
    // A buffer of its own (not a view into the caller's memory or Buffer's shared pool), so
    // destroy() can zero every copy we made.
    this.#key = new Uint8Array(k);
    this.#cipher = cipher;
    this.#nameBytes = new TextEncoder().encode(this.keyName);
  }

  /**
   * Builds a keyring from a base64 wrapping key (the form configuration files use). The decoded
   * bytes are wiped once copied into the keyring.
   *
   * @throws `ENVELOPE_INVALID_ARGUMENT` naming `wrappingKey` if it is not canonical base64 of 16,
   *   24 or 32 bytes (the message never contains the key).
   *
   * @example
   * ```ts
   * const keyring = RawAesKeyring.fromBase64({ keyNamespace: 'ns', keyName: 'key-1', wrappingKey: process.env.KEY_B64! });
   * ```
   */
  static fromBase64(options: RawAesKeyringBase64Options): RawAesKeyring {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
    const text: unknown = options.wrappingKey;
    if (typeof text !== 'string') throw invalidArgument('wrappingKey', 'expected a base64 string');
    const compact = text.replace(/\s+/g, '');
    if (!BASE64.test(compact)) throw invalidArgument('wrappingKey', 'not valid base64');
    const bytes = Buffer.from(compact, 'base64');
    try {
      return new RawAesKeyring({ keyNamespace: options.keyNamespace, keyName: options.keyName, wrappingKey: bytes });
    } finally {
      wipe(bytes);
    }
  }

  /** `<namespace>/<name>`, as used in error causes. */
  get keyId(): string {
    return `${this.keyNamespace}/${this.keyName}`;
  }

  /** True after {@link destroy}. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Generates the data key if the materials have none, then wraps it and adds the EDK
   * (spec: framework/raw-aes-keyring.md#onencrypt).
   *
   * @throws `ENVELOPE_KEYRING_FAILURE` if the keyring was destroyed; `ENVELOPE_LIMIT_EXCEEDED`
   *   if the encryption context cannot be serialized.
   */
  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    throwIfAborted(options?.signal);
    const key = this.#live();
    // Spec: if the context cannot be serialized OnEncrypt MUST fail; do it before touching the
    // materials so a failure leaves them as they were.
    const aad = serializeEncryptionContext(materials.encryptionContext);
    const dataKey = dataKeyToWrap(materials);
    try {
      const iv = randomBytes(RAW_AES_IV_LENGTH);
      const cipher = createCipheriv(this.#cipher, key, iv, { authTagLength: RAW_AES_TAG_LENGTH });
      cipher.setAAD(aad);
      const body = cipher.update(dataKey);
      const tail = cipher.final(); // empty for GCM
      const ciphertext = new Uint8Array(body.byteLength + tail.byteLength + RAW_AES_TAG_LENGTH);
      ciphertext.set(body, 0);
      ciphertext.set(tail, body.byteLength);
      ciphertext.set(cipher.getAuthTag(), body.byteLength + tail.byteLength);
      materials.addEncryptedDataKey({
        providerId: this.keyNamespace,
        providerInfo: serializeRawAesProviderInfo(this.#nameBytes, iv),
        ciphertext,
      });
    } finally {
      wipe(dataKey);
    }
    return materials;
  }

  /**
   * Unwraps the first EDK of its own that authenticates under the materials' encryption context
   * (spec: framework/raw-aes-keyring.md#ondecrypt). Materials that already have a data key are
   * returned unchanged (the spec says "fail"; our `Keyring` contract makes this a no-op so keyrings
   * compose). An EDK written under the AWS Encryption SDK for JavaScript's legacy context order
   * (`utf8Sorting: false`) also unwraps; EDKs this keyring writes use the spec's byte order.
   *
   * @throws `ENVELOPE_NO_DECRYPTABLE_KEY` with one cause per own EDK when none unwraps;
   *   `ENVELOPE_KEYRING_FAILURE` if the keyring was destroyed.
   */
  async onDecrypt(
    materials: DecryptionMaterials,
    encryptedDataKeys: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    throwIfAborted(options?.signal);
    const key = this.#live();
    const aads = aadCandidates(materials.encryptionContext);
    const expectedLength = materials.suite.keyLength + RAW_AES_TAG_LENGTH;
    const causes: KeyFailure[] = [];
    for (const edk of encryptedDataKeys) {
      if (edk.providerId !== this.keyNamespace) continue;
      const info = parseRawAesProviderInfo(edk.providerInfo, this.#nameBytes.byteLength);
      // Another key name (possibly one that starts with ours), or a wrapping algorithm with
      // other tag/IV lengths: not this keyring's EDK ("attempts to decrypt ... if and only if":
      // (spec: framework/raw-aes-keyring.md#ondecrypt)).
      if (!info || !sameBytes(info.keyName, this.#nameBytes)) continue;
      if (info.tagLengthBits !== RAW_AES_TAG_LENGTH * 8 || info.ivLength !== RAW_AES_IV_LENGTH) continue;
      const ct = edk.ciphertext;
      if (ct.byteLength !== expectedLength) {
        causes.push({ key: this.keyId, reason: `malformed ciphertext: ${ct.byteLength} bytes, expected ${expectedLength}` });
        continue;
      }
      const dataKey = this.#unwrapAny(key, info.iv, ct, aads);
      if (!dataKey) {
        causes.push({ key: this.keyId, reason: 'AES-GCM authentication failed (wrong key or encryption context)' });
        continue;
      }
      try {
        materials.setDataKey(dataKey);
      } finally {
        wipe(dataKey);
      }
      return materials;
    }
    if (causes.length > 0) throw noDecryptableKey('raw AES key', this.keyId, causes);
    return materials;
  }

  /** Zeroes the wrapping key; every later call fails with `ENVELOPE_KEYRING_FAILURE`. Idempotent. */
  destroy(): void {
    wipe(this.#key);
    this.#destroyed = true;
  }

  /** The data key from the first AAD that authenticates, or undefined. */
  #unwrapAny(key: Uint8Array, iv: Uint8Array, ct: Uint8Array, aads: Iterable<Uint8Array>): Uint8Array | undefined {
    for (const aad of aads) {
      try {
        return this.#unwrap(key, iv, ct, aad);
      } catch {
        // Tag mismatch: wrong key, other context, or (for the first AAD) the legacy ordering.
      }
    }
    return undefined;
  }

  #unwrap(key: Uint8Array, iv: Uint8Array, ct: Uint8Array, aad: Uint8Array): Uint8Array {
    const split = ct.byteLength - RAW_AES_TAG_LENGTH;
    const decipher = createDecipheriv(this.#cipher, key, iv, { authTagLength: RAW_AES_TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(ct.subarray(split));
    const body = decipher.update(ct.subarray(0, split));
    try {
      decipher.final(); // throws on a bad tag; returns nothing for GCM
    } catch (e) {
      wipe(body);
      throw e;
    }
    return body;
  }

  #live(): Uint8Array {
    if (this.#destroyed) {
      throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', `raw AES keyring ${this.keyId} was destroyed`, {
        causes: [{ key: this.keyId, reason: 'keyring destroyed' }],
      });
    }
    return this.#key;
  }
}
