/**
 * Header authentication (spec: client-apis/encrypt.md "Construct the header authentication",
 * client-apis/decrypt.md "Verify the header"): AES-GCM over an empty plaintext with
 * AAD = header body || serialized required-context pairs, IV = 0 (v1 stores the IV, v2 does not).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { authenticationFailed } from '../errors.js';
import { pick, serializeEncryptionContext, type EncryptionContext } from '../encryption-context.js';
import type { AlgorithmSuite } from '../suites.js';

/** The context pairs authenticated by the header but not stored in it. */
export function authOnlyContext(ec: EncryptionContext, requiredKeys: readonly string[]): Uint8Array {
  return requiredKeys.length === 0 ? new Uint8Array(0) : serializeEncryptionContext(pick(ec, requiredKeys));
}

/** The serialized header authentication: v1 = IV (zeros) || tag, v2 = tag. */
export function computeHeaderAuth(
  suite: AlgorithmSuite,
  version: 1 | 2,
  key: Uint8Array,
  body: Uint8Array,
  authOnly: Uint8Array,
): Uint8Array {
  const iv = Buffer.alloc(suite.ivLength);
  const cipher = createCipheriv(suite.cipher, key, iv, { authTagLength: suite.tagLength });
  cipher.setAAD(body);
  if (authOnly.byteLength > 0) cipher.setAAD(authOnly);
  cipher.final();
  const tag = cipher.getAuthTag();
  return version === 1 ? Buffer.concat([iv, tag]) : tag;
}

export function verifyHeaderAuth(
  suite: AlgorithmSuite,
  key: Uint8Array,
  body: Uint8Array,
  authOnly: Uint8Array,
  iv: Uint8Array,
  tag: Uint8Array,
): void {
  try {
    const decipher = createDecipheriv(suite.cipher, key, iv.byteLength ? iv : Buffer.alloc(suite.ivLength), {
      authTagLength: suite.tagLength,
    });
    decipher.setAAD(authOnly.byteLength > 0 ? Buffer.concat([body, authOnly]) : body);
    decipher.setAuthTag(tag);
    decipher.final();
  } catch {
    throw authenticationFailed();
  }
}
