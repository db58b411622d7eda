/**
 * The header-only rewrap of unsigned messages. Their body does not depend on the header bytes
 * (its AAD is the message id, sequence numbers and lengths), so a new header (same message id,
 * suite, context, frame length and commit key, a new EDK list, a recomputed header tag) makes a
 * valid message with the body copied byte for byte: O(header), whatever the message size.
 */
import { EnvelopeError, limitExceeded, rethrowIfAborted, throwIfAborted } from '../errors.js';
import { borrowDataKey, EncryptionMaterials } from '../materials/materials.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';
import type { MessageHeader, ParsedHeader } from '../format/header.js';
import { authOnlyContext, serializeHeader } from '../format/header-auth.js';
import { authenticateHeader } from '../message/decrypt-session.js';
import { messageInfo } from '../message/message-info.js';
import type { CheckedRewrap, RewrapSummary } from './options.js';

/**
 * Authenticates the old header with `from`, wraps its data key with `to` (or drops EDKs), and
 * returns the new header's bytes. Required-context pairs stay out of the header and stay
 * authenticated by its tag.
 */
export async function rewrapHeader(header: ParsedHeader, c: CheckedRewrap): Promise<{ bytes: Uint8Array; summary: RewrapSummary }> {
  const o = c.decryptOptions;
  const { materials, key } = await authenticateHeader(header, o);
  try {
    let edks: EncryptedDataKey[] = [...header.encryptedDataKeys];
    let added = 0;
    let removed = 0;
    if (c.mode === 'remove') {
      edks = edks.filter((e) => !c.remove!(e));
      removed = header.encryptedDataKeys.length - edks.length;
      if (edks.length === 0) throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', 'rewrap refused: it would remove every encrypted data key');
      await assertStillDecryptable(header, edks, c);
    } else {
      const fresh = new EncryptionMaterials({
        suite: header.suite,
        encryptionContext: materials.encryptionContext,
        requiredEncryptionContextKeys: materials.requiredEncryptionContextKeys,
      });
      try {
        fresh.setDataKey(borrowDataKey(materials));
        for (const k of c.to) {
          throwIfAborted(o.signal);
          await k.onEncrypt(fresh, { signal: o.signal });
        }
        const made = fresh.encryptedDataKeys;
        added = made.length;
        if (c.mode === 'replace') {
          removed = edks.length;
          edks = [...made];
        } else {
          edks.push(...made);
        }
      } finally {
        fresh.zeroize();
      }
    }
    if (edks.length > o.maxEncryptedDataKeys) {
      throw limitExceeded(`rewrap would write ${edks.length} EDKs, above maxEncryptedDataKeys ${o.maxEncryptedDataKeys}`);
    }
    const next: MessageHeader = { ...header, encryptedDataKeys: edks };
    const bytes = serializeHeader(next, key, authOnlyContext(materials.encryptionContext, materials.requiredEncryptionContextKeys));
    return { bytes, summary: { method: 'header-only', messageInfo: messageInfo(next), added, removed } };
  } finally {
    key.fill(0);
    materials.zeroize();
  }
}

/** remove mode: the `keep` keyring must still unwrap one of the remaining EDKs. */
async function assertStillDecryptable(header: ParsedHeader, edks: EncryptedDataKey[], c: CheckedRewrap): Promise<void> {
  try {
    const m = await c.keep.decryptMaterials({
      suite: header.suite,
      encryptionContext: header.encryptionContext,
      encryptedDataKeys: edks,
      reproducedEncryptionContext: c.decryptOptions.encryptionContext,
      commitmentPolicy: c.decryptOptions.commitmentPolicy,
      signal: c.decryptOptions.signal,
    });
    m.zeroize();
  } catch (e) {
    rethrowIfAborted(e);
    throw new EnvelopeError(
      'ENVELOPE_REWRAP_REFUSED',
      'rewrap refused: no remaining encrypted data key would decrypt with the keep keyring',
      { cause: e },
    );
  }
}
