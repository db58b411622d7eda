/**
 * The required-encryption-context materials manager
 * (spec: framework/required-encryption-context-cmm.md#required-encryption-context-cryptographic-materials-manager):
 * the named context keys are authenticated but not stored in the message; decrypt must be given
 * them back.
 */
import { EnvelopeError, invalidArgument } from '../errors.js';
import { DefaultMaterialsManager } from './default-materials-manager.js';
import type { DecryptionMaterials, EncryptionMaterials } from './materials.js';
import type { DecryptionMaterialsRequest, EncryptionMaterialsRequest, MaterialsManager } from './materials-manager.js';
import type { Keyring } from '../keyring/keyring.js';

export interface RequiredEncryptionContextOptions {
  /** The materials manager underneath, or a keyring (wrapped in a default manager). */
  underlying: MaterialsManager | Keyring;
  /** Context keys every message must carry, kept out of the header. */
  requiredEncryptionContextKeys: readonly string[];
}

export class RequiredEncryptionContextMaterialsManager implements MaterialsManager {
  readonly underlying: MaterialsManager;
  readonly requiredEncryptionContextKeys: readonly string[];

  constructor(options: RequiredEncryptionContextOptions) {
    const u = options.underlying as Partial<MaterialsManager & Keyring>;
    this.underlying = typeof u.getEncryptionMaterials === 'function' ? (u as MaterialsManager) : new DefaultMaterialsManager(u as Keyring);
    const keys = options.requiredEncryptionContextKeys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
      throw invalidArgument('requiredEncryptionContextKeys', 'expected a non-empty list of keys');
    }
    this.requiredEncryptionContextKeys = Object.freeze([...new Set(keys)]);
  }

  async getEncryptionMaterials(request: EncryptionMaterialsRequest): Promise<EncryptionMaterials> {
    for (const k of this.requiredEncryptionContextKeys) {
      if (!Object.prototype.hasOwnProperty.call(request.encryptionContext, k)) {
        throw invalidArgument('encryptionContext', `required key ${JSON.stringify(k)} is missing`);
      }
    }
    const required = [...new Set([...(request.requiredEncryptionContextKeys ?? []), ...this.requiredEncryptionContextKeys])];
    const materials = await this.underlying.getEncryptionMaterials({ ...request, requiredEncryptionContextKeys: required });
    for (const k of this.requiredEncryptionContextKeys) {
      if (!materials.requiredEncryptionContextKeys.includes(k)) {
        materials.zeroize();
        throw new EnvelopeError('ENVELOPE_MATERIALS', `underlying materials manager dropped required key ${JSON.stringify(k)}`);
      }
    }
    return materials;
  }

  async decryptMaterials(request: DecryptionMaterialsRequest): Promise<DecryptionMaterials> {
    for (const k of this.requiredEncryptionContextKeys) {
      if (!request.reproducedEncryptionContext || !Object.prototype.hasOwnProperty.call(request.reproducedEncryptionContext, k)) {
        throw new EnvelopeError(
          'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH',
          `reproduced encryption context lacks required key ${JSON.stringify(k)}`,
        );
      }
    }
    const materials = await this.underlying.decryptMaterials(request);
    for (const k of this.requiredEncryptionContextKeys) {
      if (!Object.prototype.hasOwnProperty.call(materials.encryptionContext, k)) {
        materials.zeroize();
        throw new EnvelopeError('ENVELOPE_MATERIALS', `decryption materials lack required key ${JSON.stringify(k)}`);
      }
    }
    return materials;
  }
}
