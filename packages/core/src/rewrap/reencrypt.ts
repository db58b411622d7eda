/**
 * The rewrap of signed messages. The old header is signed and its signing key is gone, so the
 * message is decrypted and encrypted afresh, frame by frame, with a new signing key: a streaming
 * decryptor (releasing each frame as it authenticates, the final frame held until the old
 * signature verifies) feeds a streaming encryptor. Memory is bounded by a frame or two, whatever
 * the message's size; nothing holds the whole plaintext.
 *
 * The new message is completed (its final frame and new signature written) only after the old
 * signature has verified: a new signature never vouches for unverified content. Until then the
 * output is frames of an unfinished message, and on any error the caller must discard it.
 */
import { EnvelopeError } from '../errors.js';
import { PUBLIC_KEY_CONTEXT_KEY, withoutKeys } from '../encryption-context.js';
import type { EncryptionMaterials } from '../materials/materials.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';
import { DefaultMaterialsManager } from '../materials/default-materials-manager.js';
import { RequiredEncryptionContextMaterialsManager } from '../materials/required-encryption-context-materials-manager.js';
import type { MaterialsManager } from '../materials/materials-manager.js';
import type { Keyring, KeyringCallOptions } from '../keyring/keyring.js';
import { DEFAULT_FRAME_LENGTH } from '../options.js';
import { getSuite } from '../suites.js';
import { StreamDecryptor } from '../message/stream-decryptor.js';
import { StreamEncryptor } from '../message/stream-encryptor.js';
import type { CheckedRewrap, RewrapSummary } from './options.js';

/** Re-encrypts one signed message from its bytes, in chunks of any size. */
export class Reencryptor {
  readonly #c: CheckedRewrap;
  readonly #decryptor: StreamDecryptor;
  #encryptor: StreamEncryptor | undefined;
  #keyring: RewrapKeyring | undefined;

  constructor(c: CheckedRewrap) {
    this.#c = c;
    const o = c.decryptOptions;
    this.#decryptor = new StreamDecryptor({
      materialsManager: c.from,
      encryptionContext: o.encryptionContext,
      commitmentPolicy: o.commitmentPolicy,
      maxEncryptedDataKeys: o.maxEncryptedDataKeys,
      maxFrameLength: o.maxFrameLength,
      maxHeaderLength: o.maxHeaderLength,
      signal: o.signal,
      releaseUnverifiedPlaintext: true,
    });
  }

  /** What was done; available once {@link finish} has returned. */
  get summary(): RewrapSummary | undefined {
    const info = this.#encryptor?.messageInfo;
    const k = this.#keyring;
    return info && k ? { method: 're-encrypted', messageInfo: info, added: k.added, removed: k.removed } : undefined;
  }

  /** Takes the old message's next bytes; returns the new message's bytes ready so far. */
  async update(chunk: Uint8Array): Promise<Uint8Array[]> {
    const plain = await this.#decryptor.update(chunk);
    const out: Uint8Array[] = [];
    if (!this.#encryptor && this.#decryptor.messageInfo) out.push(await this.#start());
    this.#encrypt(plain, out);
    return out;
  }

  /**
   * The old message has ended: verifies its signature, and only then writes the new message's
   * final frame and signature.
   */
  async finish(): Promise<Uint8Array[]> {
    const plain = await this.#decryptor.finish();
    const out: Uint8Array[] = [];
    if (!this.#encryptor) out.push(await this.#start());
    this.#encrypt(plain, out);
    out.push(this.#encryptor!.finish());
    return out;
  }

  /** Wipes both sides' keys and any plaintext held. Idempotent. */
  dispose(): void {
    this.#decryptor.dispose();
    this.#encryptor?.dispose();
  }

  #encrypt(plain: Uint8Array[], out: Uint8Array[]): void {
    for (const p of plain) {
      try {
        const c = this.#encryptor!.update(p);
        if (c.byteLength) out.push(c);
      } finally {
        p.fill(0);
      }
    }
  }

  /** Starts the new message once the old header has authenticated: same suite, context and frame length. */
  async #start(): Promise<Uint8Array> {
    const d = this.#decryptor;
    const info = d.messageInfo!;
    const o = this.#c.decryptOptions;
    // 15.2: required-context pairs stay out of the new header and stay required.
    const required = d.requiredEncryptionContextKeys ?? [];
    const keyring = new RewrapKeyring(info.encryptedDataKeys, this.#c);
    const manager: MaterialsManager =
      required.length > 0
        ? new RequiredEncryptionContextMaterialsManager({ underlying: keyring, requiredEncryptionContextKeys: required })
        : new DefaultMaterialsManager(keyring);
    this.#keyring = keyring;
    this.#encryptor = new StreamEncryptor({
      materialsManager: manager,
      encryptionContext: withoutKeys(d.encryptionContext!, (k) => k === PUBLIC_KEY_CONTEXT_KEY),
      suite: info.suiteId,
      frameLength: info.frameLength || DEFAULT_FRAME_LENGTH,
      commitmentPolicy: getSuite(info.suiteId).commitment ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT',
      maxEncryptedDataKeys: o.maxEncryptedDataKeys,
      signal: o.signal,
    });
    return this.#encryptor.start();
  }
}

/**
 * The keyring a re-encryption uses. The old EDKs wrap the old data key and cannot be reused, so
 * for `add` the `from` keyring wraps the new data key too, which needs a `from` that can encrypt
 * (not a discovery keyring). `remove` on a signed message is refused.
 */
class RewrapKeyring implements Keyring {
  added = 0;
  removed = 0;
  constructor(
    private readonly old: readonly EncryptedDataKey[],
    private readonly c: CheckedRewrap,
  ) {}

  async onEncrypt(m: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    if (this.c.mode === 'remove') {
      throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', 'mode remove on a signed message: use replace with the keyrings to keep');
    }
    if (this.c.mode === 'add') {
      const fromKeyring = (this.c.from as Partial<DefaultMaterialsManager>).keyring;
      if (!fromKeyring || typeof fromKeyring.onEncrypt !== 'function') {
        throw new EnvelopeError(
          'ENVELOPE_REWRAP_REFUSED',
          'mode add on a signed message re-encrypts, so "from" must be a keyring that can also encrypt',
        );
      }
      await fromKeyring.onEncrypt(m, options);
    }
    const before = m.hasDataKey ? m.encryptedDataKeys.length : 0;
    for (const k of this.c.to) await k.onEncrypt(m, options);
    this.added = m.encryptedDataKeys.length - before;
    this.removed = this.c.mode === 'replace' ? this.old.length : 0;
    return m;
  }

  async onDecrypt(): Promise<never> {
    throw new EnvelopeError('ENVELOPE_INTERNAL', 'rewrap keyring cannot decrypt');
  }
}
