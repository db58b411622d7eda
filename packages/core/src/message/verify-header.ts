/**
 * Proving a message opens, from its header alone: the data key unwrapped by the keyring (or
 * materials manager), the key commitment checked and the header tag verified, exactly as a
 * decrypt would before its first frame, and nothing of the body read or decrypted. For
 * disaster-recovery checks (`envelope dr-report --verify`) and audits of stored messages.
 */
import type { ParsedHeader } from '../format/header.js';
import { checkDecryptOptions, type DecryptOptions } from '../options.js';
import { authenticateHeader } from './decrypt-session.js';
import { messageInfo, type MessageInfo } from './message-info.js';

/**
 * Unwraps `header`'s data key with the given keyring (or materials manager), checks the key
 * commitment (spec: client-apis/decrypt.md#verify-the-header) and the header's authentication
 * tag, then wipes every key it derived. Resolves to the message's facts; rejects with the coded
 * error a decrypt of the message would give (ENVELOPE_NO_DECRYPTABLE_KEY,
 * ENVELOPE_AUTHENTICATION_FAILED, ENVELOPE_COMMITMENT_POLICY, …).
 *
 * @example
 * ```ts
 * const { header } = await readMessageHeader(createReadStream('a.enc'), { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 26 });
 * await verifyHeader(header, { keyring: survivingRegionsKeyring });
 * ```
 */
export async function verifyHeader(header: ParsedHeader, options: DecryptOptions): Promise<MessageInfo> {
  const o = checkDecryptOptions(options);
  const { materials, key } = await authenticateHeader(header, o);
  key.fill(0);
  materials.zeroize();
  return messageInfo(header);
}
