/**
 * One message being read: materials, commitment and header checks, the frame decrypter and the
 * signature verifier. Shared by the buffer API and the stream adapters (spec: client-apis/decrypt.md).
 */
import type { KeyObject, Verify } from 'node:crypto';
import { EnvelopeError } from '../errors.js';
import { assertDecryptAllowed } from '../commitment-policy.js';
import type { EncryptionContext } from '../encryption-context.js';
import { borrowDataKey, type DecryptionMaterials } from '../materials/materials.js';
import { deriveKeys, verifyCommitKey } from '../crypto/kdf.js';
import { CONTENT_TYPE_FRAMED, type ParsedHeader } from '../format/header.js';
import { authOnlyContext, verifyHeaderAuth } from '../format/header-auth.js';
import { FrameDecrypter } from '../format/frame.js';
import { createVerifier, verifyFooter } from '../format/footer.js';
import { messageInfo, type MessageInfo } from './message-info.js';
import type { CheckedDecryptOptions } from '../options.js';

export class DecryptSession {
  readonly info: MessageInfo;
  /** The full authenticated context: the header's plus reproduced required-context pairs. */
  readonly encryptionContext: EncryptionContext;
  readonly decrypter: FrameDecrypter;
  readonly #verifier: Verify | undefined;
  readonly #verificationKey: KeyObject | undefined;

  private constructor(header: ParsedHeader, ec: EncryptionContext, decrypter: FrameDecrypter, verificationKey: KeyObject | undefined) {
    this.info = messageInfo(header);
    this.encryptionContext = ec;
    this.decrypter = decrypter;
    this.#verificationKey = verificationKey;
    if (header.suite.signature) {
      this.#verifier = createVerifier(header.suite);
      this.#verifier.update(header.body);
      this.#verifier.update(header.headerIv);
      this.#verifier.update(header.headerAuthTag);
    }
  }

  get signed(): boolean {
    return this.#verifier !== undefined;
  }

  /**
   * Gets materials for a parsed header and authenticates the header (commit key, then header
   * tag). The data key is wiped before this returns; only the derived key lives on.
   */
  static async begin(header: ParsedHeader, o: CheckedDecryptOptions): Promise<DecryptSession> {
    const { materials, key } = await authenticateHeader(header, o);
    try {
      const framed = header.contentType === CONTENT_TYPE_FRAMED;
      const decrypter = new FrameDecrypter(header.suite, key, header.messageId, header.frameLength, framed, o.maxFrameLength);
      return new DecryptSession(header, materials.encryptionContext, decrypter, materials.verificationKey);
    } finally {
      materials.zeroize();
    }
  }

  /** Feeds authenticated body bytes to the signature verifier. */
  updateSignature(bytes: Uint8Array): void {
    this.#verifier?.update(bytes);
  }

  /** Verifies the footer at `offset`; returns its length (0 for unsigned suites). */
  verifyFooter(bytes: Uint8Array, offset: number, partial: boolean): number {
    if (!this.#verifier) return 0;
    return verifyFooter(this.#verifier, this.#verificationKey!, bytes, offset, partial);
  }

  dispose(): void {
    this.decrypter.dispose();
  }
}

/**
 * Obtains decryption materials for a parsed header and authenticates the header with them:
 * commitment policy, the caller's context, the commit key (v2), then the header tag. Returns
 * the materials (still holding the data key: the caller zeroizes them) and the derived key
 * (the caller wipes it). On failure both are wiped.
 */
export async function authenticateHeader(
  header: ParsedHeader,
  o: Pick<CheckedDecryptOptions, 'materialsManager' | 'commitmentPolicy' | 'encryptionContext' | 'signal'>,
): Promise<{ materials: DecryptionMaterials; key: Buffer }> {
  const suite = header.suite;
  assertDecryptAllowed(o.commitmentPolicy, suite);
  const materials = await o.materialsManager.decryptMaterials({
    suite,
    encryptionContext: header.encryptionContext,
    encryptedDataKeys: header.encryptedDataKeys,
    reproducedEncryptionContext: o.encryptionContext,
    commitmentPolicy: o.commitmentPolicy,
    signal: o.signal,
  });
  let key: Buffer | undefined;
  try {
    if (materials.suite.id !== suite.id) throw new EnvelopeError('ENVELOPE_MATERIALS', 'decryption materials are for a different suite');
    const ec = materials.encryptionContext;
    // A caller's pair must be in the authenticated context with the same value, whatever the
    // materials manager did with it.
    for (const [k, v] of Object.entries(o.encryptionContext ?? {})) {
      if (ec[k] !== v)
        throw new EnvelopeError('ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH', `encryption context mismatch for key ${JSON.stringify(k)}`);
    }
    if (suite.signature && !materials.verificationKey)
      throw new EnvelopeError('ENVELOPE_MATERIALS', 'signed suite without a verification key');
    const derived = deriveKeys(suite, borrowDataKey(materials), header.messageId);
    key = derived.key;
    // Spec order: the commit key is checked before the header tag.
    if (derived.commitKey) verifyCommitKey(derived.commitKey, header.suiteData);
    verifyHeaderAuth(
      suite,
      key,
      header.body,
      authOnlyContext(ec, materials.requiredEncryptionContextKeys),
      header.headerIv,
      header.headerAuthTag,
    );
    return { materials, key };
  } catch (e) {
    key?.fill(0);
    materials.zeroize();
    throw e;
  }
}
