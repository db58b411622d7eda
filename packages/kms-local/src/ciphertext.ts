/**
 * kms-local's ciphertext blobs (our own format; the real service's is opaque too):
 *
 *   version 0x01 ‖ family length u8 ‖ family id (UTF-8) ‖ material version u16 ‖ IV (12) ‖ ciphertext ‖ tag (16)
 *
 * AES-256-GCM under the key's material. The AAD binds the key family (the key id; for multi-region
 * keys the shared `mrk-` id, so a replica decrypts what the primary wrote), the material version
 * (so rotation cannot swap material under a blob) and the canonical encryption context.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomBytesPooled } from './random.js';
import { invalidCiphertext } from './errors.js';

/** An encryption context: string keys to string values, order-insensitive. */
export type EncryptionContext = Record<string, string>;

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Largest material version a blob can name (u16). */
export const MAX_MATERIAL_VERSION = 0xffff;

/** One decoder for every blob (constructing one per call shows up in profiles). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Order-independent, unambiguous encoding of a context: a JSON array of [key, value] pairs sorted
 * by key (JSON escaping keeps the boundaries unambiguous).
 */
export function canonicalContext(ec: EncryptionContext | undefined): string {
  if (!ec) return '[]';
  const keys = Object.keys(ec);
  if (keys.length === 0) return '[]';
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, ec[k]]));
}

function aad(family: string, version: number, ec: EncryptionContext | undefined): Buffer {
  return Buffer.from(`kms-local\0${family}\0${version}\0${canonicalContext(ec)}`, 'utf8');
}

/** Encrypts `plaintext` under one material version of a key family. */
export function seal(family: string, version: number, material: Buffer, plaintext: Buffer, ec: EncryptionContext | undefined): Buffer {
  const fam = Buffer.from(family, 'utf8');
  if (fam.byteLength > 255) throw new RangeError('key family id longer than 255 bytes');
  const head = 2 + fam.byteLength + 2;
  const out = Buffer.allocUnsafe(head + IV_BYTES + plaintext.byteLength + TAG_BYTES);
  out[0] = FORMAT;
  out[1] = fam.byteLength;
  fam.copy(out, 2);
  out.writeUInt16BE(version, 2 + fam.byteLength);
  const iv = randomBytesPooled(IV_BYTES);
  iv.copy(out, head);
  const c = createCipheriv('aes-256-gcm', material, iv);
  c.setAAD(aad(family, version, ec));
  // AES-GCM is a stream mode: update() returns exactly as many bytes as it is given.
  c.update(plaintext).copy(out, head + IV_BYTES);
  c.final();
  c.getAuthTag().copy(out, head + IV_BYTES + plaintext.byteLength);
  return out;
}

/** What a blob claims before it is authenticated: its key family, material version and body. */
export interface BlobHeader {
  family: string;
  version: number;
  body: Buffer;
}

/** Reads the unauthenticated header of a blob; anything malformed is InvalidCiphertextException. */
export function peek(blob: Buffer): BlobHeader {
  if (blob.byteLength < 2 || blob[0] !== FORMAT) throw invalidCiphertext();
  const n = blob[1]!;
  if (n === 0 || blob.byteLength < 2 + n + 2 + IV_BYTES + TAG_BYTES) throw invalidCiphertext();
  let family: string;
  try {
    family = UTF8.decode(blob.subarray(2, 2 + n));
  } catch {
    throw invalidCiphertext();
  }
  return { family, version: blob.readUInt16BE(2 + n), body: blob.subarray(4 + n) };
}

/** Authenticates and decrypts a blob's body; every failure is the same InvalidCiphertextException. */
export function open(family: string, version: number, material: Buffer, body: Buffer, ec: EncryptionContext | undefined): Buffer {
  let pt: Buffer | undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', material, body.subarray(0, IV_BYTES));
    d.setAAD(aad(family, version, ec));
    d.setAuthTag(body.subarray(body.byteLength - TAG_BYTES));
    pt = d.update(body.subarray(IV_BYTES, body.byteLength - TAG_BYTES));
    d.final();
    return pt;
  } catch {
    // Unauthenticated plaintext never leaves this function, and is wiped here.
    pt?.fill(0);
    throw invalidCiphertext();
  }
}
