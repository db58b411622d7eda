/**
 * One message being read: materials, commitment and header checks, the frame decrypter and the
 * signature verifier. Shared by the buffer API and the stream adapters
 * (spec: client-apis/decrypt.md#decrypt).
 *
 * The mirror of {@link EncryptSession}: where encrypt writes a frame and signs it in one call,
 * decrypt reads a frame and feeds it to the signature in one call; callers never touch the
 * verifier.
 */
import type { KeyObject, Verify } from 'node:crypto';
import { EnvelopeError, isEnvelopeError } from '../errors.js';
import { assertDecryptAllowed } from '../commitment-policy.js';
import type { EncryptionContext } from '../encryption-context.js';
import { borrowDataKey, type DecryptionMaterials } from '../materials/materials.js';
import { deriveKeys, verifyCommitKey } from '../crypto/kdf.js';
import { CONTENT_TYPE_FRAMED, type ParsedHeader } from '../format/header.js';
import { authOnlyContext, verifyHeaderAuth } from '../format/header-auth.js';
import { FrameDecrypter, type DecryptedFrame } from '../format/frame.js';
import { footerSize } from '../format/framing.js';
import { createVerifier, verifyFooter } from '../format/footer.js';
import { messageInfo, type MessageInfo } from './message-info.js';
import { FrameBatches } from '../parallel/frame-batches.js';
import type { FramePool } from '../parallel/frame-pool.js';
import type { CheckedDecryptOptions } from '../options.js';

export class DecryptSession {
  readonly info: MessageInfo;
  /** The full authenticated context: the header's plus reproduced required-context pairs. */
  readonly encryptionContext: EncryptionContext;
  /** Keys of {@link encryptionContext} authenticated but not stored in the header (required context). */
  readonly requiredEncryptionContextKeys: readonly string[];
  readonly #decrypter: FrameDecrypter;
  readonly #verifier: Verify | undefined;
  readonly #verificationKey: KeyObject | undefined;
  readonly #header: ParsedHeader;
  readonly #key: Buffer;

  private constructor(header: ParsedHeader, materials: DecryptionMaterials, decrypter: FrameDecrypter, key: Buffer) {
    this.#header = header;
    this.#key = key;
    this.info = messageInfo(header);
    this.encryptionContext = materials.encryptionContext;
    this.requiredEncryptionContextKeys = materials.requiredEncryptionContextKeys;
    this.#decrypter = decrypter;
    this.#verificationKey = materials.verificationKey;
    if (header.suite.signature) {
      this.#verifier = createVerifier(header.suite);
      this.#verifier.update(header.body);
      this.#verifier.update(header.headerIv);
      this.#verifier.update(header.headerAuthTag);
    }
  }

  /**
   * Gets materials for a parsed header and authenticates the header (commit key, then header
   * tag). The data key is wiped before this returns, and the derived key too if anything after
   * its derivation fails; on success only the session holds it (wiped by {@link dispose}).
   */
  static async begin(header: ParsedHeader, o: CheckedDecryptOptions): Promise<DecryptSession> {
    const { materials, key } = await authenticateHeader(header, o);
    try {
      let decrypter: FrameDecrypter;
      try {
        const frameLength = header.contentType === CONTENT_TYPE_FRAMED ? header.frameLength : 0;
        decrypter = new FrameDecrypter(header.suite, key, header.messageId, frameLength, o.maxFrameLength);
      } catch (e) {
        key.fill(0);
        throw e;
      }
      try {
        return new DecryptSession(header, materials, decrypter, key);
      } catch (e) {
        decrypter.dispose();
        throw e;
      }
    } finally {
      materials.zeroize();
    }
  }

  get signed(): boolean {
    return this.#verifier !== undefined;
  }

  /** True once the final frame (or the non-framed body) has been read. */
  get done(): boolean {
    return this.#decrypter.done;
  }

  /**
   * Size of the next frame from its first bytes at `offset`, or undefined until they are here
   * (the one "need more data" answer). Refuses an over-long declared length.
   */
  frameSize(bytes: Uint8Array, offset: number): number | undefined {
    return this.#decrypter.nextFrameSize(bytes, offset);
  }

  /**
   * Reads the frame at `offset` (whole in `bytes`): authenticates and decrypts it, and feeds its
   * bytes to the signature. With `out`, the plaintext is written there (the decipher's copy is
   * wiped). The mirror of {@link EncryptSession.writeFrame}.
   */
  readFrame(bytes: Uint8Array, offset: number, out?: Uint8Array, outOffset?: number): DecryptedFrame {
    const frame = this.#decrypter.decryptAt(bytes, offset, out, outOffset);
    this.#verifier?.update(bytes.subarray(offset, offset + frame.consumed));
    return frame;
  }

  /**
   * A framed message's frames on a frame pool: every worker gets a copy of the derived key until
   * `end()`. The frames are then read by the workers, and their bytes given to {@link adoptFrames}.
   */
  frameBatches(pool: FramePool): FrameBatches {
    const h = this.#header;
    return new FrameBatches(pool, h.suite, this.#key, h.messageId, h.frameLength);
  }

  /** Frames read elsewhere (a frame worker): their bytes go to the signature, in order. */
  adoptFrames(bytes: Uint8Array): void {
    this.#verifier?.update(bytes);
  }

  /** Size of the footer from its first bytes at `offset`: 0 for unsigned suites, undefined until known. */
  footerSize(bytes: Uint8Array, offset: number): number | undefined {
    return this.#verifier ? footerSize(bytes, offset) : 0;
  }

  /** Verifies the footer at `offset` (whole in `bytes`); returns its length (0 for unsigned suites). */
  verifyFooter(bytes: Uint8Array, offset: number): number {
    if (!this.#verifier) return 0;
    return verifyFooter(this.#verifier, this.#verificationKey!, bytes, offset);
  }

  /** Wipes the derived key. Idempotent. */
  dispose(): void {
    this.#decrypter.dispose();
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
  // The caller's pairs whose keys the header does not store: by the spec they are required-context
  // pairs, authenticated by the keyrings and the header tag. If those fail, say which key it was.
  const absent = Object.keys(o.encryptionContext ?? {}).filter((k) => !Object.prototype.hasOwnProperty.call(header.encryptionContext, k));
  let materials: DecryptionMaterials;
  try {
    materials = await o.materialsManager.decryptMaterials({
      suite,
      encryptionContext: header.encryptionContext,
      encryptedDataKeys: header.encryptedDataKeys,
      reproducedEncryptionContext: o.encryptionContext,
      commitmentPolicy: o.commitmentPolicy,
      signal: o.signal,
    });
  } catch (e) {
    throw absent.length > 0 && isEnvelopeError(e, 'ENVELOPE_NO_DECRYPTABLE_KEY') ? notInMessage(absent, e) : e;
  }
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
    try {
      verifyHeaderAuth(
        suite,
        key,
        header.body,
        authOnlyContext(ec, materials.requiredEncryptionContextKeys),
        header.headerIv,
        header.headerAuthTag,
      );
    } catch (e) {
      // Only the header tag covers the required-context pairs: a failure here with such pairs
      // given is, short of tampering, a pair the message was not written with.
      throw absent.length > 0 ? notInMessage(absent, e) : e;
    }
    return { materials, key };
  } catch (e) {
    key?.fill(0);
    materials.zeroize();
    throw e;
  }
}

/**
 * The caller gave pairs whose keys the header does not store, and the message did not
 * authenticate with them as required-context pairs. Names the keys, never the values. A header
 * tag failure becomes ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH; a keyring failure keeps its code (it
 * may have other causes too) and says it first.
 */
function notInMessage(keys: readonly string[], e: unknown): EnvelopeError {
  const names = keys.map((k) => JSON.stringify(k)).join(', ');
  const what = `context pair not in the message: ${keys.length > 1 ? 'keys' : 'key'} ${names} (not stored in the header, so taken as required context, which the message does not authenticate with)`;
  if (isEnvelopeError(e, 'ENVELOPE_NO_DECRYPTABLE_KEY')) {
    return new EnvelopeError(e.code, `${what}; ${e.message}`, { cause: e, causes: e.causes });
  }
  return new EnvelopeError('ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH', what, { cause: e });
}
