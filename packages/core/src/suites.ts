/**
 * The AWS Encryption SDK algorithm suites
 * (spec: framework/algorithm-suites.md#supported-algorithm-suites), with the key-derivation,
 * commitment and signature tables.
 */
import { EnvelopeError } from './errors.js';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export type CurveName = 'P-256' | 'P-384';

export interface AlgorithmSuite {
  /** The 2-byte identifier, e.g. 0x0478. */
  readonly id: number;
  /** Human-readable name, as in the spec's ENUM. */
  readonly name: string;
  /** Message format version this suite is written with (1 or 2). */
  readonly messageFormat: 1 | 2;
  /** AES-GCM data key / derived key length in bytes (16, 24 or 32). */
  readonly keyLength: 16 | 24 | 32;
  readonly ivLength: 12;
  readonly tagLength: 16;
  /** node:crypto cipher name, e.g. 'aes-256-gcm'. */
  readonly cipher: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  /** HKDF hash, or undefined for the identity KDF (no derivation). */
  readonly kdfHash: HashName | undefined;
  /** Key commitment (v2 suites): a 32-byte commit key in the header's suite data. */
  readonly commitment: boolean;
  /** Length of the header's algorithm suite data (32 for committing suites, else 0). */
  readonly suiteDataLength: 0 | 32;
  /** ECDSA signature over the message, or undefined. */
  readonly signature: { readonly curve: CurveName; readonly hash: 'sha256' | 'sha384' } | undefined;
}

function suite(
  id: number,
  name: string,
  keyLength: 16 | 24 | 32,
  kdfHash: HashName | undefined,
  signature: AlgorithmSuite['signature'],
  commitment = false,
): AlgorithmSuite {
  return Object.freeze({
    id,
    name,
    messageFormat: commitment ? 2 : 1,
    keyLength,
    ivLength: 12,
    tagLength: 16,
    cipher: `aes-${keyLength * 8}-gcm` as AlgorithmSuite['cipher'],
    kdfHash,
    commitment,
    suiteDataLength: commitment ? 32 : 0,
    signature: signature && Object.freeze(signature),
  });
}

const P256 = { curve: 'P-256', hash: 'sha256' } as const;
const P384 = { curve: 'P-384', hash: 'sha384' } as const;

/** Every suite, keyed by id. */
export const SUITES: ReadonlyMap<number, AlgorithmSuite> = new Map(
  [
    suite(0x0014, 'AES_128_GCM_IV12_TAG16_NO_KDF', 16, undefined, undefined),
    suite(0x0046, 'AES_192_GCM_IV12_TAG16_NO_KDF', 24, undefined, undefined),
    suite(0x0078, 'AES_256_GCM_IV12_TAG16_NO_KDF', 32, undefined, undefined),
    suite(0x0114, 'AES_128_GCM_IV12_TAG16_HKDF_SHA256', 16, 'sha256', undefined),
    suite(0x0146, 'AES_192_GCM_IV12_TAG16_HKDF_SHA256', 24, 'sha256', undefined),
    suite(0x0178, 'AES_256_GCM_IV12_TAG16_HKDF_SHA256', 32, 'sha256', undefined),
    suite(0x0214, 'AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256', 16, 'sha256', P256),
    suite(0x0346, 'AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384', 24, 'sha384', P384),
    suite(0x0378, 'AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384', 32, 'sha384', P384),
    suite(0x0478, 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY', 32, 'sha512', undefined, true),
    suite(0x0578, 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384', 32, 'sha512', P384, true),
  ].map((s) => [s.id, s]),
);

/** The default suite for encryption: committing and signed. */
export const DEFAULT_SUITE_ID = 0x0578;

/** Looks a suite up by id (number, or a string such as "0x0478"); throws ENVELOPE_UNSUPPORTED. */
export function getSuite(id: number | string): AlgorithmSuite {
  const n = typeof id === 'string' ? Number.parseInt(id, id.startsWith('0x') ? 16 : 10) : id;
  const s = SUITES.get(n);
  if (!s) {
    throw new EnvelopeError('ENVELOPE_UNSUPPORTED', `unsupported algorithm suite ${formatSuiteId(n)}`);
  }
  return s;
}

export function formatSuiteId(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(4, '0')}`;
}
