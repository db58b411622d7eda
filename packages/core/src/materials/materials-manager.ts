/** The materials manager (CMM) contract (spec: framework/cmm-interface.md#cryptographic-materials-manager-interface). */
import type { AlgorithmSuite } from '../suites.js';
import type { CommitmentPolicy } from '../commitment-policy.js';
import type { EncryptionContext } from '../encryption-context.js';
import type { DecryptionMaterials, EncryptionMaterials } from './materials.js';
import type { EncryptedDataKey } from './encrypted-data-key.js';

export interface EncryptionMaterialsRequest {
  readonly encryptionContext: EncryptionContext;
  /** The caller's suite, if any; the manager picks a default otherwise. */
  readonly suite?: AlgorithmSuite | undefined;
  readonly commitmentPolicy: CommitmentPolicy;
  /** Exact plaintext length when known (buffers), or the caller's bound (streams); undefined if unknown. */
  readonly plaintextLength?: number | undefined;
  /** Context keys to authenticate but not store in the header. */
  readonly requiredEncryptionContextKeys?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface DecryptionMaterialsRequest {
  readonly suite: AlgorithmSuite;
  /** The context stored in the message header. */
  readonly encryptionContext: EncryptionContext;
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
  /** The caller's context: must match the header where keys overlap; other pairs are required-context pairs. */
  readonly reproducedEncryptionContext?: EncryptionContext | undefined;
  readonly commitmentPolicy: CommitmentPolicy;
  readonly signal?: AbortSignal | undefined;
}

/** Produces materials for encrypt and decrypt (default, caching, required-context, ...). */
export interface MaterialsManager {
  getEncryptionMaterials(request: EncryptionMaterialsRequest): Promise<EncryptionMaterials>;
  decryptMaterials(request: DecryptionMaterialsRequest): Promise<DecryptionMaterials>;
}
