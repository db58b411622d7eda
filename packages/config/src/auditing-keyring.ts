/**
 * The keyring wrapper behind audit events: every keyring a registry builds (a plugin's too) is
 * audited without its own code.
 */
import type { DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, KeyringCallOptions } from '@envelope/core';
import { EnvelopeError } from '@envelope/core';
import { auditEvent, type AuditOperation, type AuditSink } from './audit.js';

/**
 * Wraps a keyring and reports each of its operations: `generate` (it made the data key),
 * `wrap` (it wrapped an existing one), `unwrap` (it opened an EDK). "Not mine" on decrypt is
 * not reported.
 */
export class AuditingKeyring implements Keyring {
  constructor(
    readonly inner: Keyring,
    private readonly sink: AuditSink,
    private readonly label: { keyringType: string; keyId?: string | undefined; region?: string | undefined },
  ) {}

  /** Another keyring audited like this one (same sink and label): e.g. the inner keyring restricted to some regions. */
  auditing(inner: Keyring): AuditingKeyring {
    return new AuditingKeyring(inner, this.sink, this.label);
  }

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    const operation = materials.hasDataKey ? 'wrap' : 'generate';
    const t0 = performance.now();
    try {
      const r = await this.inner.onEncrypt(materials, options);
      this.#emit(operation, 'success', t0, materials.encryptionContext);
      return r;
    } catch (e) {
      this.#emit(operation, 'failure', t0, materials.encryptionContext, e);
      throw e;
    }
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    const t0 = performance.now();
    try {
      const r = await this.inner.onDecrypt(materials, edks, options);
      if (materials.hasDataKey) this.#emit('unwrap', 'success', t0, materials.encryptionContext);
      return r;
    } catch (e) {
      this.#emit('unwrap', 'failure', t0, materials.encryptionContext, e);
      throw e;
    }
  }

  #emit(
    operation: AuditOperation,
    outcome: 'success' | 'failure',
    t0: number,
    ec: Readonly<Record<string, string>>,
    error?: unknown,
  ): void {
    this.sink.emit(
      auditEvent(
        this.sink,
        {
          operation,
          outcome,
          latencyMs: Math.round((performance.now() - t0) * 1000) / 1000,
          ...this.label,
          ...(error === undefined
            ? {}
            : { error: error instanceof EnvelopeError ? error.code : error instanceof Error ? error.name : 'error' }),
        },
        ec,
      ),
    );
  }
}
