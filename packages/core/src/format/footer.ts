/** The message footer: the ECDSA signature (spec: data-format/message-footer.md#footer-structure). */
import { createSign, createVerify, type KeyObject, type Sign, type Verify } from 'node:crypto';
import { authenticationFailed, malformed } from '../errors.js';
import { footerSize } from './framing.js';
import type { AlgorithmSuite } from '../suites.js';

export function createSigner(suite: AlgorithmSuite): Sign {
  return createSign(suite.signature!.hash);
}

export function createVerifier(suite: AlgorithmSuite): Verify {
  return createVerify(suite.signature!.hash);
}

/** Serializes the footer for a finished signer: u16 length || DER signature. */
export function signFooter(signer: Sign, key: KeyObject): Buffer {
  const sig = signer.sign(key);
  const out = Buffer.alloc(2 + sig.byteLength);
  out.writeUInt16BE(sig.byteLength, 0);
  sig.copy(out, 2);
  return out;
}

/**
 * Verifies the footer at `offset`, which must be whole in `bytes`; returns its length. Bytes after
 * it are the caller's to judge (the message must end there).
 */
export function verifyFooter(verifier: Verify, key: KeyObject, bytes: Uint8Array, offset: number): number {
  const size = footerSize(bytes, offset);
  if (size === undefined || bytes.byteLength - offset < size) throw malformed('truncated signature');
  let ok: boolean;
  try {
    ok = verifier.verify(key, Buffer.from(bytes.buffer, bytes.byteOffset + offset + 2, size - 2));
  } catch {
    ok = false;
  }
  if (!ok) throw authenticationFailed();
  return size;
}
