/** The message footer: the ECDSA signature (spec: data-format/message-footer.md). */
import { createSign, createVerify, type KeyObject, type Sign, type Verify } from 'node:crypto';
import { authenticationFailed, malformed } from '../errors.js';
import { NeedMoreData } from '../bytes.js';
import type { AlgorithmSuite } from '../suites.js';

/** Largest DER ECDSA signature we write or accept (P-384: 104 bytes; leave headroom). */
export const MAX_SIGNATURE_LENGTH = 0xff;

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
 * Reads the footer at `offset` (which must be the last thing in the message) and verifies it.
 * With `partial`, throws NeedMoreData while incomplete.
 */
export function verifyFooter(verifier: Verify, key: KeyObject, bytes: Uint8Array, offset: number, partial: boolean): number {
  const avail = bytes.byteLength - offset;
  if (avail < 2) {
    if (partial) throw new NeedMoreData();
    throw malformed('truncated signature');
  }
  const len = (bytes[offset]! << 8) | bytes[offset + 1]!;
  if (len > MAX_SIGNATURE_LENGTH || len === 0) throw authenticationFailed();
  if (avail < 2 + len) {
    if (partial) throw new NeedMoreData();
    throw malformed('truncated signature');
  }
  let ok: boolean;
  try {
    ok = verifier.verify(key, Buffer.from(bytes.buffer, bytes.byteOffset + offset + 2, len));
  } catch {
    ok = false;
  }
  if (!ok) throw authenticationFailed();
  return 2 + len;
}
