/**
 * Header authentication (spec: client-apis/encrypt.md#construct-the-header)
 * (spec: client-apis/decrypt.md#verify-the-header): AES-GCM over an empty plaintext with
 * AAD = header body || serialized required-context pairs, IV = 0 (v1 stores the IV, v2 does not).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { authenticationFailed } from '../errors.js';
import { pick, serializeEncryptionContext, type EncryptionContext } from '../encryption-context.js';
import type { AlgorithmSuite } from '../suites.js';
import { serializeHeaderBody, type MessageHeader } from './header.js';

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

/**
 * The whole serialized header: the body, then its authentication under `key` over the body and
 * the required-context pairs (`authOnly`, not stored). Encrypt and the header-only rewrap write
 * headers only through this.
 */
export function serializeHeader(header: MessageHeader, key: Uint8Array, authOnly: Uint8Array): Uint8Array {
  const body = serializeHeaderBody(header);
  const auth = computeHeaderAuth(header.suite, header.version, key, body, authOnly);
  const out = new Uint8Array(body.byteLength + auth.byteLength);
  out.set(body);
  out.set(auth, body.byteLength);
  return out;
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
