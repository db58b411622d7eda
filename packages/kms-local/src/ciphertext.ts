/**
 * kms-local's ciphertext blobs: AES-256-GCM under the key's material, bound to the key family
 * (the key id; for multi-region keys the shared mrk- id, so replicas decrypt what the primary
 * wrote), the material version and the encryption context.
 *
 *   01 ‖ len u8 ‖ family id ‖ material version u16 ‖ IV (12) ‖ ciphertext ‖ tag (16)
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KmsError } from './errors.js';

export type EncryptionContext = Record<string, string>;

/** Order-independent, unambiguous encoding of a context for AAD. */
export function canonicalContext(ec: EncryptionContext | undefined): Buffer {
  const entries = Object.entries(ec ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function aad(family: string, version: number, ec: EncryptionContext | undefined): Buffer {
  return Buffer.concat([Buffer.from(`kms-local\0${family}\0${version}\0`, 'utf8'), canonicalContext(ec)]);
}

export function seal(family: string, version: number, material: Buffer, plaintext: Buffer, ec: EncryptionContext | undefined): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', material, iv);
  c.setAAD(aad(family, version, ec));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  const fam = Buffer.from(family, 'utf8');
  const head = Buffer.alloc(4);
  head[0] = 1;
  head[1] = fam.byteLength;
  return Buffer.concat([head.subarray(0, 2), fam, Buffer.from([version >> 8, version & 0xff]), iv, ct, c.getAuthTag()]);
}

/** The key family and material version a blob names (unauthenticated until opened). */
export function peek(blob: Buffer): { family: string; version: number; body: Buffer } {
  if (blob.byteLength < 2 + 1 + 2 + 12 + 16 || blob[0] !== 1) throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  const n = blob[1]!;
  if (blob.byteLength < 2 + n + 2 + 12 + 16) throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  const family = blob.subarray(2, 2 + n).toString('utf8');
  const version = blob.readUInt16BE(2 + n);
  return { family, version, body: blob.subarray(4 + n) };
}

export function open(family: string, version: number, material: Buffer, body: Buffer, ec: EncryptionContext | undefined): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', material, body.subarray(0, 12));
    d.setAAD(aad(family, version, ec));
    d.setAuthTag(body.subarray(body.byteLength - 16));
    return Buffer.concat([d.update(body.subarray(12, body.byteLength - 16)), d.final()]);
  } catch {
    throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  }
}
