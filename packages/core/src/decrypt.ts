/** Buffer decryption (spec: client-apis/decrypt.md#decrypt). */
import { invalidArgument, malformed } from './errors.js';
import { checkDecryptOptions, type DecryptOptions } from './options.js';
import { parseHeader } from './format/header-parser.js';
import { DecryptSession } from './message/decrypt-session.js';
import type { MessageInfo } from './message/message-info.js';
import type { EncryptionContext } from './encryption-context.js';

export interface DecryptResult {
  readonly plaintext: Uint8Array;
  readonly messageInfo: MessageInfo;
  /** The authenticated context: stored pairs plus reproduced required-context pairs. */
  readonly encryptionContext: EncryptionContext;
}

/**
 * Decrypts and authenticates a whole message. Nothing is returned unless every frame, the
 * header and (for signed suites) the signature verify.
 *
 * @example
 * ```ts
 * const { plaintext, encryptionContext } = await decrypt(ciphertext, { keyring, encryptionContext: { tenant: 'a' } });
 * ```
 */
export async function decrypt(message: Uint8Array, options: DecryptOptions): Promise<DecryptResult> {
  if (!(message instanceof Uint8Array)) throw invalidArgument('message', 'expected a Uint8Array');
  const o = checkDecryptOptions(options);
  const header = parseHeader(message, o);
  const session = await DecryptSession.begin(header, o);
  // The plaintext is never longer than the body; frames are decrypted into it (each frame's
  // decipher output is wiped) and the slack is zeroed before returning.
  const out = Buffer.allocUnsafe(message.byteLength - header.length);
  let w = 0;
  try {
    let off = header.length;
    while (!session.done) {
      const f = session.readFrame(message, off, out, w);
      w += f.plaintext.byteLength;
      off += f.consumed;
    }
    off += session.verifyFooter(message, off);
    if (off !== message.byteLength) throw malformed('trailing bytes after the message');
    out.fill(0, w);
    return { plaintext: out.subarray(0, w), messageInfo: session.info, encryptionContext: session.encryptionContext };
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    session.dispose();
  }
}
