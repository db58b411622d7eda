/**
 * A tiny AES-256-GCM keyring for these tests (the idea of core's test keyring, not an import of
 * it): counts calls, keeps the materials it filled (the ones the cache stores), and can be made
 * slow or failing.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  getSuite,
  type EncryptionMaterialsRequest,
  type DecryptionMaterialsRequest,
  EnvelopeError,
  serializeEncryptionContext,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';

export class CountingKeyring implements Keyring {
  encrypts = 0;
  decrypts = 0;
  /** Fail every call with ENVELOPE_KMS while set. */
  fail = false;
  /** Delay each call (ms), so that concurrent callers pile up. */
  delayMs = 0;
  /** Materials this keyring filled: what a caching manager stores. */
  readonly encrypted: EncryptionMaterials[] = [];
  readonly decrypted: DecryptionMaterials[] = [];
  /** Signals the keyring was called with. */
  readonly signals: (AbortSignal | undefined)[] = [];

  constructor(private readonly key: Buffer = randomBytes(32)) {}

  async onEncrypt(m: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    this.encrypts++;
    this.signals.push(options?.signal);
    await this.#wait(options?.signal);
    if (!m.hasDataKey) {
      const fresh = randomBytes(m.suite.keyLength);
      m.setDataKey(fresh);
      fresh.fill(0);
    }
    const dk = m.getDataKey();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(serializeEncryptionContext(m.encryptionContext));
    m.addEncryptedDataKey({
      providerId: 'count',
      providerInfo: Buffer.from('k'),
      ciphertext: Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]),
    });
    dk.fill(0);
    this.encrypted.push(m);
    return m;
  }

  async onDecrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[], options?: KeyringCallOptions): Promise<DecryptionMaterials> {
    this.decrypts++;
    this.signals.push(options?.signal);
    await this.#wait(options?.signal);
    const e = edks.find((x) => x.providerId === 'count');
    if (!e) return m;
    const d = createDecipheriv('aes-256-gcm', this.key, e.ciphertext.subarray(0, 12));
    d.setAAD(serializeEncryptionContext(m.encryptionContext));
    d.setAuthTag(e.ciphertext.subarray(e.ciphertext.length - 16));
    const dk = Buffer.concat([d.update(e.ciphertext.subarray(12, e.ciphertext.length - 16)), d.final()]);
    m.setDataKey(dk);
    dk.fill(0);
    this.decrypted.push(m);
    return m;
  }

  async #wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new EnvelopeError('ENVELOPE_ABORTED', 'keyring call aborted'));
        });
      });
    }
    if (this.fail) throw new EnvelopeError('ENVELOPE_KMS', 'injected failure');
  }
}

/** A clock the test moves by hand. */
export function fakeClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Encryption-request shorthand: suite 0x0478, committing policy, `bytes` long. */
export function encRequest(bytes: number | undefined = 1024, o: Record<string, unknown> = {}): EncryptionMaterialsRequest {
  return {
    encryptionContext: {},
    suite: getSuite(0x0478),
    commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
    plaintextLength: bytes,
    ...o,
  };
}

/** The decrypt request for a message made with `m` (its suite, context and EDKs). */
export function decRequest(m: EncryptionMaterials, o: Record<string, unknown> = {}): DecryptionMaterialsRequest {
  return {
    suite: m.suite,
    encryptionContext: m.encryptionContext,
    encryptedDataKeys: m.encryptedDataKeys,
    commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
    ...o,
  };
}
