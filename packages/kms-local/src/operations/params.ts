/**
 * Request parameters, checked at the edge with the service's error names: a missing or malformed
 * field is a ValidationException naming the field (in the service's lower-camel wire spelling),
 * a wrong JSON type a SerializationException. Every length is bounded.
 */
import { KmsError, validation } from '../errors.js';
import type { EncryptionContext } from '../ciphertext.js';

/** A parsed JSON request or response body. */
export type Json = Record<string, unknown>;

/** Longest KeyId (id, ARN, alias or alias ARN) the service accepts. */
const MAX_KEY_ID = 2048;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const serialization = (field: string): KmsError => new KmsError('SerializationException', `Unexpected type for field '${field}'.`);

/** A string field; undefined when absent and not required. */
export function stringParam(req: Json, field: string, wire: string, opts: { required: true; max: number; min?: number }): string;
export function stringParam(
  req: Json,
  field: string,
  wire: string,
  opts: { required?: false; max: number; min?: number },
): string | undefined;
export function stringParam(
  req: Json,
  field: string,
  wire: string,
  opts: { required?: boolean; max: number; min?: number },
): string | undefined {
  const v = req[field];
  if (v === undefined || v === null) {
    if (opts.required) throw validation(wire, 'Member must not be null');
    return undefined;
  }
  if (typeof v !== 'string') throw serialization(field);
  const min = opts.min ?? 1;
  if (v.length < min || v.length > opts.max) throw validation(wire, `Member must have length between ${min} and ${opts.max}`);
  return v;
}

/** A required key reference: key id, key ARN, alias name or alias ARN. */
export function keyIdParam(req: Json, field = 'KeyId', wire = 'keyId'): string {
  return stringParam(req, field, wire, { required: true, max: MAX_KEY_ID });
}

/** An optional key reference. */
export function optionalKeyIdParam(req: Json, field = 'KeyId', wire = 'keyId'): string | undefined {
  return stringParam(req, field, wire, { max: MAX_KEY_ID });
}

/** A required blob field (base64 on the wire) of 1..max bytes. */
export function blobParam(req: Json, field: string, wire: string, max: number): Buffer {
  const v = req[field];
  if (v === undefined || v === null) throw validation(wire, 'Member must not be null');
  if (typeof v !== 'string' || !BASE64.test(v)) throw serialization(field);
  // Bound before decoding: base64 is 4 characters per 3 bytes.
  if (v.length > Math.ceil(max / 3) * 4) throw validation(wire, `Member must have length less than or equal to ${max}`);
  const b = Buffer.from(v, 'base64');
  if (b.byteLength < 1 || b.byteLength > max) throw validation(wire, `Member must have length between 1 and ${max}`);
  return b;
}

/** An optional encryption context: a map of strings to strings. */
export function contextParam(req: Json, field: string): EncryptionContext | undefined {
  const v = req[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw serialization(field);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw serialization(field);
    if (k.length === 0) throw validation(field.charAt(0).toLowerCase() + field.slice(1), 'Map keys must have length at least 1');
  }
  return v as EncryptionContext;
}

/** GrantTokens: accepted (up to 10, as the service) and otherwise ignored — kms-local has no grants. */
export function grantTokensParam(req: Json): void {
  const v = req.GrantTokens;
  if (v === undefined || v === null) return;
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw serialization('GrantTokens');
  if (v.length > 10) throw validation('grantTokens', 'Member must have length less than or equal to 10');
}

const ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'];

/** An EncryptionAlgorithm field: SYMMETRIC_DEFAULT (or absent) is the only one a symmetric key does. */
export function algorithmParam(req: Json, field: string): void {
  const v = req[field];
  if (v === undefined || v === null || v === 'SYMMETRIC_DEFAULT') return;
  if (typeof v !== 'string' || !ALGORITHMS.includes(v)) {
    throw validation(field.charAt(0).toLowerCase() + field.slice(1), `Member must satisfy enum value set: [${ALGORITHMS.join(', ')}]`);
  }
  throw new KmsError('InvalidKeyUsageException', `${v} is not supported by a SYMMETRIC_DEFAULT key.`);
}

/** The data key length asked for: KeySpec (AES_256, AES_128) or NumberOfBytes (1..1024), not both. */
export function dataKeyLength(req: Json): number {
  const n = req.NumberOfBytes;
  const spec = req.KeySpec;
  if (n !== undefined && n !== null) {
    if (typeof n !== 'number') throw serialization('NumberOfBytes');
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw validation('numberOfBytes', 'Member must have value between 1 and 1024');
    if (spec !== undefined && spec !== null)
      throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec, not both.');
    return n;
  }
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  if (spec !== undefined && spec !== null) throw validation('keySpec', 'Member must satisfy enum value set: [AES_256, AES_128]');
  throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
}

/** Limit (1..1000, default 100) and Marker (an opaque offset this server handed out) of a List call. */
export function page<T>(req: Json, items: readonly T[]): { items: T[]; truncated: boolean; nextMarker?: string } {
  const limit = req.Limit ?? 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw validation('limit', 'Member must have value between 1 and 1000');
  let start = 0;
  if (req.Marker !== undefined && req.Marker !== null) {
    const m = typeof req.Marker === 'string' && req.Marker.length <= 1024 ? /^o(\d{1,9})$/.exec(req.Marker) : null;
    if (!m) throw new KmsError('InvalidMarkerException', 'The request was rejected because the marker is not valid.');
    start = Number(m[1]);
  }
  const end = start + limit;
  const slice = items.slice(start, end);
  return end < items.length ? { items: slice, truncated: true, nextMarker: `o${end}` } : { items: slice, truncated: false };
}
