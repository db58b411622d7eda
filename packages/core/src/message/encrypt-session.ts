/**
 * One message being written: materials, derived key, header, frame encrypter and signer.
 * Shared by the buffer API and the stream adapters (spec: client-apis/encrypt.md#encrypt).
 */
import { randomBytes, type KeyObject, type Sign } from 'node:crypto';
import { EnvelopeError, limitExceeded } from '../errors.js';
import { assertEncryptAllowed } from '../commitment-policy.js';
import { withoutKeys, type EncryptionContext } from '../encryption-context.js';
import { borrowDataKey, type EncryptionWarning } from '../materials/materials.js';
import { deriveKeys } from '../crypto/kdf.js';
import { CONTENT_TYPE_FRAMED, type MessageHeader } from '../format/header.js';
import { authOnlyContext, serializeHeader } from '../format/header-auth.js';
import { FrameEncrypter } from '../format/frame.js';
import { createSigner, signFooter } from '../format/footer.js';
import { messageInfo, type MessageInfo } from './message-info.js';
import { FrameBatches } from '../parallel/frame-batches.js';
import type { FramePool } from '../parallel/frame-pool.js';
import type { CheckedEncryptOptions } from '../options.js';
import type { AlgorithmSuite } from '../suites.js';

export class EncryptSession {
  /** The serialized header (body and authentication). */
  readonly header: Uint8Array;
  readonly info: MessageInfo;
  readonly suite: AlgorithmSuite;
  readonly frameLength: number;
  /** The full context, including required-context pairs (which are not in the header). */
  readonly encryptionContext: EncryptionContext;
  /** Warnings the keyrings recorded (e.g. a degraded multi-region encrypt). */
  readonly warnings: readonly EncryptionWarning[];
  readonly #encrypter: FrameEncrypter;
  readonly #signer: Sign | undefined;
  readonly #signingKey: KeyObject | undefined;
  readonly #key: Buffer;
  readonly #messageId: Uint8Array;
  #seq = 1;

  private constructor(
    header: MessageHeader,
    headerBytes: Uint8Array,
    encrypter: FrameEncrypter,
    key: Buffer,
    ec: EncryptionContext,
    signingKey: KeyObject | undefined,
    warnings: readonly EncryptionWarning[],
  ) {
    this.warnings = warnings;
    this.header = headerBytes;
    this.info = messageInfo(header);
    this.suite = header.suite;
    this.frameLength = header.frameLength;
    this.encryptionContext = ec;
    this.#encrypter = encrypter;
    this.#key = key;
    this.#messageId = header.messageId;
    this.#signingKey = signingKey;
    this.#signer = header.suite.signature ? createSigner(header.suite) : undefined;
    this.#signer?.update(headerBytes);
  }

  /** Gets materials, derives the key and writes the header. The data key is wiped before this returns. */
  static async begin(o: CheckedEncryptOptions, plaintextLength: number | undefined): Promise<EncryptSession> {
    const materials = await o.materialsManager.getEncryptionMaterials({
      encryptionContext: o.encryptionContext,
      suite: o.suite,
      commitmentPolicy: o.commitmentPolicy,
      plaintextLength,
      signal: o.signal,
    });
    let key: Buffer | undefined;
    try {
      const suite = materials.suite;
      if (o.suite && o.suite.id !== suite.id) {
        throw new EnvelopeError('ENVELOPE_MATERIALS', `materials manager returned suite ${suite.name}, not the requested ${o.suite.name}`);
      }
      assertEncryptAllowed(o.commitmentPolicy, suite);
      const edks = materials.encryptedDataKeys;
      if (edks.length > o.maxEncryptedDataKeys) {
        throw limitExceeded(`${edks.length} encrypted data keys exceed maxEncryptedDataKeys ${o.maxEncryptedDataKeys}`);
      }
      if (suite.signature && !materials.signingKey) throw new EnvelopeError('ENVELOPE_MATERIALS', 'signed suite without a signing key');
      const required = materials.requiredEncryptionContextKeys;
      const ec = materials.encryptionContext;
      const stored = withoutKeys(ec, (k) => required.includes(k));
      const messageId = randomBytes(suite.messageFormat === 2 ? 32 : 16);
      const derived = deriveKeys(suite, borrowDataKey(materials), messageId);
      key = derived.key;
      const header: MessageHeader = {
        version: suite.messageFormat,
        suite,
        messageId,
        encryptionContext: stored,
        encryptedDataKeys: edks,
        contentType: CONTENT_TYPE_FRAMED,
        frameLength: o.frameLength,
        suiteData: derived.commitKey ?? new Uint8Array(0),
      };
      const headerBytes = serializeHeader(header, key, authOnlyContext(ec, required));
      return new EncryptSession(
        header,
        headerBytes,
        new FrameEncrypter(suite, key, messageId),
        key,
        ec,
        materials.signingKey,
        materials.warnings,
      );
    } catch (e) {
      key?.fill(0);
      throw e;
    } finally {
      materials.zeroize();
    }
  }

  /** Writes the next frame into `out` at `offset`; returns the offset after it. */
  writeFrame(out: Uint8Array, offset: number, final: boolean, plaintext: Uint8Array): number {
    const end = this.#encrypter.writeFrame(out, offset, this.#seq++, final, plaintext);
    this.#signer?.update(out.subarray(offset, end));
    return end;
  }

  /** Sequence number of the next frame. */
  get nextSeq(): number {
    return this.#seq;
  }

  /** This message's frames on a frame pool: every worker gets a copy of the derived key until `end()`. */
  frameBatches(pool: FramePool): FrameBatches {
    return new FrameBatches(pool, this.suite, this.#key, this.#messageId, this.frameLength);
  }

  /** `count` frames from {@link nextSeq} on, sealed elsewhere (a frame worker): counted and signed in order. */
  adoptFrames(frames: Uint8Array, count: number): void {
    this.#seq += count;
    this.#signer?.update(frames);
  }

  /** The footer (signature) for signed suites; empty otherwise. Call once, after the final frame. */
  footer(): Uint8Array {
    return this.#signer ? signFooter(this.#signer, this.#signingKey!) : new Uint8Array(0);
  }

  /** Wipes the derived key. */
  dispose(): void {
    this.#encrypter.dispose();
  }
}
