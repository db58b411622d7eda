/** MultiKeyring (spec: framework/multi-keyring.md#multi-keyring): a generator plus child keyrings. */
import { EnvelopeError, describeFailures, invalidArgument, rethrowIfAborted, throwIfAborted, type KeyFailure } from '../errors.js';
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';
import type { Keyring, KeyringCallOptions } from './keyring.js';

export interface MultiKeyringOptions {
  /** Generates the data key on encrypt (and wraps it). Optional: without it, materials must arrive with a data key. */
  generator?: Keyring | undefined;
  /** Each wraps the data key on encrypt; on decrypt they are tried in order after the generator. */
  children?: readonly Keyring[] | undefined;
}

/**
 * Composes keyrings. Encrypt: the generator makes the data key, then every child wraps it;
 * any failure fails the whole encrypt (a message must decrypt with every listed key).
 * Decrypt: the generator, then each child, until one unwraps a data key.
 *
 * @example
 * ```ts
 * const keyring = new MultiKeyring({ generator: primary, children: [backup] });
 * ```
 */
export class MultiKeyring implements Keyring {
  readonly generator: Keyring | undefined;
  readonly children: readonly Keyring[];

  constructor(options: MultiKeyringOptions) {
    this.generator = options.generator;
    this.children = Object.freeze([...(options.children ?? [])]);
    if (!this.generator && this.children.length === 0) {
      throw invalidArgument('MultiKeyring', 'needs a generator or at least one child');
    }
  }

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    if (this.generator) {
      await this.generator.onEncrypt(materials, options);
    } else if (!materials.hasDataKey) {
      throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'MultiKeyring: no generator and the materials have no data key');
    }
    if (!materials.hasDataKey) {
      throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'MultiKeyring: the generator did not produce a data key');
    }
    for (const child of this.children) {
      throwIfAborted(options?.signal);
      await child.onEncrypt(materials, options);
    }
    return materials;
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    const causes: KeyFailure[] = [];
    for (const keyring of this.generator ? [this.generator, ...this.children] : this.children) {
      throwIfAborted(options?.signal);
      try {
        await keyring.onDecrypt(materials, edks, options);
      } catch (e) {
        rethrowIfAborted(e);
        causes.push(...failuresOf(e));
        continue;
      }
      if (materials.hasDataKey) return materials;
    }
    if (causes.length > 0) {
      throw new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', `no keyring could decrypt a data key: ${describeFailures(causes)}`, {
        causes,
      });
    }
    return materials;
  }
}

/** The key failures an error carries, or one generic entry. */
export function failuresOf(e: unknown): KeyFailure[] {
  if (e instanceof EnvelopeError && e.causes.length > 0) return [...e.causes];
  const reason = e instanceof EnvelopeError ? e.code : e instanceof Error ? e.name : 'error';
  return [{ key: 'keyring', reason, error: e }];
}
