/**
 * Cryptographic materials (spec: framework/structures.md#encryption-materials)
 * (spec: framework/structures.md#decryption-materials). Materials own the plaintext data key: it is
 * set once, copied in, handed out only as copies, and zeroized when the operation ends.
 */
import type { KeyObject } from 'node:crypto';
import { EnvelopeError } from '../errors.js';
import type { AlgorithmSuite } from '../suites.js';
import type { EncryptionContext } from '../encryption-context.js';
import type { EncryptedDataKey } from './encrypted-data-key.js';

let borrow: (m: DataKeyHolder) => Uint8Array;

/** Shared data-key ownership for both kinds of materials. */
abstract class DataKeyHolder {
  readonly suite: AlgorithmSuite;
  readonly encryptionContext: EncryptionContext;
  /**
   * Keys of {@link encryptionContext} that are authenticated but not stored in the header
   * (required-encryption-context CMM).
   */
  readonly requiredEncryptionContextKeys: readonly string[];
  #dataKey: Uint8Array | undefined;
  #zeroized = false;

  constructor(suite: AlgorithmSuite, encryptionContext: EncryptionContext, requiredKeys: readonly string[] = []) {
    this.suite = suite;
    this.encryptionContext = encryptionContext;
    this.requiredEncryptionContextKeys = Object.freeze([...requiredKeys]);
  }

  /** True once a data key has been set (and until zeroized). */
  get hasDataKey(): boolean {
    return this.#dataKey !== undefined && !this.#zeroized;
  }

  /** True after {@link zeroize}. */
  get zeroized(): boolean {
    return this.#zeroized;
  }

  /**
   * Sets the plaintext data key, once. The bytes are copied: the caller should wipe its own
   * buffer (keyrings do).
   */
  setDataKey(key: Uint8Array): this {
    if (this.#zeroized) throw new EnvelopeError('ENVELOPE_MATERIALS', 'materials were zeroized');
    if (this.#dataKey) throw new EnvelopeError('ENVELOPE_MATERIALS', 'data key already set');
    if (!(key instanceof Uint8Array) || key.byteLength !== this.suite.keyLength) {
      throw new EnvelopeError('ENVELOPE_MATERIALS', `data key must be ${this.suite.keyLength} bytes for suite ${this.suite.name}`);
    }
    this.#dataKey = new Uint8Array(key);
    return this;
  }

  /** A copy of the plaintext data key. The caller owns (and should wipe) the copy. */
  getDataKey(): Uint8Array {
    return new Uint8Array(this.#own());
  }

  /** Overwrites the data key with zeros; any later read fails. Idempotent. */
  zeroize(): void {
    this.#dataKey?.fill(0);
    this.#zeroized = true;
  }

  #own(): Uint8Array {
    if (this.#zeroized) throw new EnvelopeError('ENVELOPE_MATERIALS', 'materials were zeroized');
    if (!this.#dataKey) throw new EnvelopeError('ENVELOPE_MATERIALS', 'no data key set');
    return this.#dataKey;
  }

  /** Never print key material. */
  toJSON(): object {
    return { suite: this.suite.name, encryptionContext: this.encryptionContext, hasDataKey: this.hasDataKey };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} { suite: ${this.suite.name}, hasDataKey: ${this.hasDataKey} }`;
  }

  static {
    borrow = (m) => m.#own();
  }
}

/**
 * Internal: the materials' own data key buffer, without a copy. Only the message codec and
 * tests use it; it is not exported from the package.
 */
export function borrowDataKey(m: EncryptionMaterials | DecryptionMaterials): Uint8Array {
  return borrow(m);
}

export interface EncryptionMaterialsInit {
  suite: AlgorithmSuite;
  encryptionContext: EncryptionContext;
  requiredEncryptionContextKeys?: readonly string[];
  /** ECDSA private key for signed suites. */
  signingKey?: KeyObject | undefined;
}

/** Materials for one encryption: the suite, context, data key and its wrapped copies. */
export class EncryptionMaterials extends DataKeyHolder {
  readonly signingKey: KeyObject | undefined;
  readonly #edks: EncryptedDataKey[] = [];
  readonly #warnings: EncryptionWarning[] = [];

  constructor(init: EncryptionMaterialsInit) {
    super(init.suite, init.encryptionContext, init.requiredEncryptionContextKeys);
    this.signingKey = init.signingKey;
  }

  get encryptedDataKeys(): readonly EncryptedDataKey[] {
    return this.#edks.slice();
  }

  /** Adds a wrapped copy of the data key. Requires the data key to be set. */
  addEncryptedDataKey(edk: EncryptedDataKey): this {
    if (!this.hasDataKey) throw new EnvelopeError('ENVELOPE_MATERIALS', 'cannot add an encrypted data key before the data key is set');
    this.#edks.push(Object.freeze({ providerId: edk.providerId, providerInfo: edk.providerInfo, ciphertext: edk.ciphertext }));
    return this;
  }

  /**
   * Records something the caller should know about this message although encryption
   * succeeded, e.g. a multi-region keyring that could not reach every region. `encrypt`
   * returns these as `warnings`.
   */
  addWarning(warning: EncryptionWarning): this {
    this.#warnings.push(Object.freeze({ ...warning }));
    return this;
  }

  get warnings(): readonly EncryptionWarning[] {
    return this.#warnings.slice();
  }
}

/** A note from a keyring or manager about a message that was written, but not as configured. */
export interface EncryptionWarning {
  /** Who says so, e.g. `aws-kms-multi-region`. */
  readonly source: string;
  /** Stable code, e.g. `DEGRADED_ENCRYPT`. */
  readonly code: string;
  readonly message: string;
  /** Structured facts (e.g. the regions that are missing); never key material. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface DecryptionMaterialsInit {
  suite: AlgorithmSuite;
  encryptionContext: EncryptionContext;
  requiredEncryptionContextKeys?: readonly string[];
  /** ECDSA public key for signed suites. */
  verificationKey?: KeyObject | undefined;
}

/** Materials for one decryption: the suite, context and the unwrapped data key. */
export class DecryptionMaterials extends DataKeyHolder {
  readonly verificationKey: KeyObject | undefined;

  constructor(init: DecryptionMaterialsInit) {
    super(init.suite, init.encryptionContext, init.requiredEncryptionContextKeys);
    this.verificationKey = init.verificationKey;
  }
}
