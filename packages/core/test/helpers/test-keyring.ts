/**
 * A minimal keyring for core tests: wraps the data key with AES-256-GCM under a fixed key,
 * binding the serialized encryption context. Not wire-compatible with anything; core tests
 * must not depend on keyring-local.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  EnvelopeError,
  serializeEncryptionContext,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type Keyring,
} from '../../src/index.js';

export class TestKeyring implements Keyring {
  /** Every data key buffer this keyring produced or unwrapped, to check wiping. */
  readonly issued: Uint8Array[] = [];
  onEncryptCalls = 0;
  onDecryptCalls = 0;

  constructor(
    readonly name = 'test-key',
    private readonly key: Buffer = Buffer.alloc(32, 7),
  ) {}

  async onEncrypt(m: EncryptionMaterials): Promise<EncryptionMaterials> {
    this.onEncryptCalls++;
    if (!m.hasDataKey) {
      const k = randomBytes(m.suite.keyLength);
      m.setDataKey(k);
      k.fill(0);
    }
    const dk = m.getDataKey();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(serializeEncryptionContext(m.encryptionContext));
    const ct = Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]);
    dk.fill(0);
    m.addEncryptedDataKey({ providerId: 'test', providerInfo: Buffer.from(this.name), ciphertext: ct });
    return m;
  }

  async onDecrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[]): Promise<DecryptionMaterials> {
    this.onDecryptCalls++;
    if (m.hasDataKey) return m;
    for (const edk of edks) {
      if (edk.providerId !== 'test' || Buffer.from(edk.providerInfo).toString() !== this.name) continue;
      try {
        const d = createDecipheriv('aes-256-gcm', this.key, edk.ciphertext.subarray(0, 12));
        d.setAAD(serializeEncryptionContext(m.encryptionContext));
        d.setAuthTag(edk.ciphertext.subarray(edk.ciphertext.length - 16));
        const dk = Buffer.concat([d.update(edk.ciphertext.subarray(12, edk.ciphertext.length - 16)), d.final()]);
        m.setDataKey(dk);
        dk.fill(0);
        return m;
      } catch {
        throw new EnvelopeError('ENVELOPE_NO_DECRYPTABLE_KEY', 'test keyring could not unwrap', {
          causes: [{ key: `test/${this.name}`, reason: 'unwrap failed' }],
        });
      }
    }
    return m;
  }
}
