/**
 * Branch key materials (spec: framework/structures.md#branch-key-materials): the plaintext
 * branch key, its id, its version and the custom encryption context it was created with. The
 * object owns the key bytes: copied in, lent out only to synchronous derivations, zeroized
 * explicitly, unreadable after.
 */
import { EnvelopeError } from '@envelope/core';
import { uuidToBytes } from './uuid.js';

/**
 * Branch keys are 32 bytes (GenerateDataKeyWithoutPlaintext `NumberOfBytes` 32:
 * (spec: framework/branch-key-store.md#wrapped-branch-key-creation)).
 */
export const BRANCH_KEY_LENGTH = 32;

export class BranchKeyMaterials {
  readonly branchKeyId: string;
  /** The version, a lower-case UUID string. */
  readonly version: string;
  /** The version as the 16 bytes an EDK carries. */
  readonly versionBytes: Uint8Array;
  /** The custom encryption context (without the `aws-crypto-ec:` prefix). */
  readonly encryptionContext: Readonly<Record<string, string>>;
  #key: Uint8Array;
  #zeroized = false;

  /** Copies `key`; the caller wipes its own buffer. */
  constructor(init: { branchKeyId: string; version: string; key: Uint8Array; encryptionContext?: Readonly<Record<string, string>> }) {
    if (!(init.key instanceof Uint8Array) || init.key.byteLength !== BRANCH_KEY_LENGTH)
      throw new EnvelopeError('ENVELOPE_INTERNAL', `a branch key is ${BRANCH_KEY_LENGTH} bytes`);
    this.branchKeyId = init.branchKeyId;
    this.version = init.version;
    this.versionBytes = uuidToBytes(init.version);
    this.encryptionContext = Object.freeze({ ...(init.encryptionContext ?? {}) });
    this.#key = new Uint8Array(init.key);
  }

  get zeroized(): boolean {
    return this.#zeroized;
  }

  /**
   * Runs `fn` with the key bytes (no copy). `fn` must be synchronous and must not keep the
   * buffer: it is the one the cache zeroizes.
   */
  withKey<T>(fn: (key: Uint8Array) => T): T {
    if (this.#zeroized) throw new EnvelopeError('ENVELOPE_MATERIALS', 'branch key materials were zeroized');
    return fn(this.#key);
  }

  /** An independent copy (its own key buffer). */
  copy(): BranchKeyMaterials {
    return this.withKey(
      (key) =>
        new BranchKeyMaterials({ branchKeyId: this.branchKeyId, version: this.version, key, encryptionContext: this.encryptionContext }),
    );
  }

  /** Overwrites the key with zeros; idempotent. */
  zeroize(): void {
    this.#key.fill(0);
    this.#zeroized = true;
  }

  /** Never print key material. */
  toJSON(): object {
    return { branchKeyId: this.branchKeyId, version: this.version, zeroized: this.#zeroized };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `BranchKeyMaterials { branchKeyId: ${JSON.stringify(this.branchKeyId)}, version: ${this.version} }`;
  }
}
