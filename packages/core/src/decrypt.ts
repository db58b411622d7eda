/** Buffer decryption (spec: client-apis/decrypt.md). */
import { invalidArgument, malformed } from './errors.js';
import { NeedMoreData } from './bytes.js';
import { checkDecryptOptions, type DecryptOptions } from './options.js';
import { parseHeader } from './format/header.js';
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
  // The plaintext is never longer than the body; the slack is zeroed before returning.
  const out = Buffer.allocUnsafe(message.byteLength - header.length);
  let w = 0;
  try {
    let off = header.length;
    while (!session.decrypter.done) {
      const f = session.decrypter.decryptAt(message, off);
      out.set(f.plaintext, w);
      w += f.plaintext.byteLength;
      off += f.consumed;
    }
    if (session.signed) {
      session.updateSignature(message.subarray(header.length, off));
      off += session.verifyFooter(message, off, false);
    }
    if (off !== message.byteLength) throw malformed('trailing bytes after the message');
    out.fill(0, w);
    return { plaintext: out.subarray(0, w), messageInfo: session.info, encryptionContext: session.encryptionContext };
  } catch (e) {
    out.fill(0);
    if (e instanceof NeedMoreData) throw malformed('truncated message');
    throw e;
  } finally {
    session.dispose();
  }
}
