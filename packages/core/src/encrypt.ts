/** Buffer encryption (spec: client-apis/encrypt.md#encrypt). */
import { invalidArgument, limitExceeded } from './errors.js';
import { checkEncryptOptions, type EncryptOptions } from './options.js';
import { EncryptSession } from './message/encrypt-session.js';
import { MAX_FOOTER_LENGTH, MAX_FRAMES, frameCount, framedBodyLength } from './format/framing.js';
import type { MessageInfo } from './message/message-info.js';
import type { EncryptionContext } from './encryption-context.js';
import type { EncryptionWarning } from './materials/materials.js';

export interface EncryptResult {
  /** The complete message: header, frames, footer. */
  readonly ciphertext: Uint8Array;
  readonly messageInfo: MessageInfo;
  /** The full authenticated context, including any signing key and required-context pairs. */
  readonly encryptionContext: EncryptionContext;
  /** Written, but not as configured (e.g. a region was down): see each warning's code. */
  readonly warnings: readonly EncryptionWarning[];
}

/**
 * Encrypts `plaintext` into one AWS Encryption SDK message (format v2 with key commitment
 * by default, suite 0x0578).
 *
 * @example
 * ```ts
 * const { ciphertext } = await encrypt(data, { keyring, encryptionContext: { tenant: 'a' }, suite: 0x0478 });
 * ```
 */
export async function encrypt(plaintext: Uint8Array, options: EncryptOptions): Promise<EncryptResult> {
  if (!(plaintext instanceof Uint8Array)) throw invalidArgument('plaintext', 'expected a Uint8Array');
  const o = checkEncryptOptions(options);
  const len = plaintext.byteLength;
  const fl = o.frameLength;
  const frames = frameCount(len, fl);
  if (frames > MAX_FRAMES) throw limitExceeded('plaintext needs more than 2^32-1 frames at this frame length');
  const session = await EncryptSession.begin(o, len);
  try {
    const s = session.suite;
    const size = session.header.byteLength + framedBodyLength(s, len, fl) + (s.signature ? MAX_FOOTER_LENGTH : 0);
    // Every byte handed back is written below; the unused tail of a signed message is zeroed.
    const out = Buffer.allocUnsafe(size);
    out.set(session.header, 0);
    let off = session.header.byteLength;
    let p = 0;
    for (let i = 1; i < frames; i++, p += fl) {
      off = session.writeFrame(out, off, false, plaintext.subarray(p, p + fl));
    }
    off = session.writeFrame(out, off, true, plaintext.subarray(p));
    const footer = session.footer();
    out.set(footer, off);
    off += footer.byteLength;
    out.fill(0, off);
    return {
      ciphertext: out.subarray(0, off),
      messageInfo: session.info,
      encryptionContext: session.encryptionContext,
      warnings: session.warnings,
    };
  } finally {
    session.dispose();
  }
}
