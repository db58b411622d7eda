/** What a caller learns about a message from encrypt, decrypt and inspect. */
import type { EncryptionContext } from '../encryption-context.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';
import type { MessageHeader } from '../format/header.js';

export interface MessageInfo {
  readonly version: 1 | 2;
  readonly suiteId: number;
  readonly suiteName: string;
  readonly messageId: Uint8Array;
  /** The context stored in the header. */
  readonly storedEncryptionContext: EncryptionContext;
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
  readonly contentType: 'framed' | 'non-framed';
  readonly frameLength: number;
  readonly signed: boolean;
}

export function messageInfo(h: MessageHeader): MessageInfo {
  return Object.freeze({
    version: h.version,
    suiteId: h.suite.id,
    suiteName: h.suite.name,
    messageId: h.messageId,
    storedEncryptionContext: h.encryptionContext,
    encryptedDataKeys: h.encryptedDataKeys,
    contentType: h.contentType === 2 ? 'framed' : 'non-framed',
    frameLength: h.frameLength,
    signed: h.suite.signature !== undefined,
  });
}
