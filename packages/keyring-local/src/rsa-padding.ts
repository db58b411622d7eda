/**
 * RSA padding schemes of the raw RSA keyring
 * (spec: framework/raw-rsa-keyring.md#supported-padding-schemes), mapped to node:crypto options,
 * and the PKCS#1 v1.5 decryption probe.
 */
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';

/**
 * The padding schemes the spec defines. OAEP always uses MGF1 with the same hash as OAEP
 * (node:crypto's `oaepHash` sets both). `'pkcs1'` is PKCS#1 v1.5: for compatibility with old
 * messages only.
 */
export type RsaPadding = 'pkcs1' | 'oaep-sha1' | 'oaep-sha256' | 'oaep-sha384' | 'oaep-sha512';

/** Every {@link RsaPadding}, in the spec's order. */
export const RSA_PADDINGS: readonly RsaPadding[] = Object.freeze(['pkcs1', 'oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512']);

export interface NodeRsaPadding {
  readonly padding: number;
  readonly oaepHash?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
}

export function isRsaPadding(value: unknown): value is RsaPadding {
  return typeof value === 'string' && (RSA_PADDINGS as readonly string[]).includes(value);
}

export function nodePadding(padding: RsaPadding): NodeRsaPadding {
  if (padding === 'pkcs1') return { padding: constants.RSA_PKCS1_PADDING };
  return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.slice(5) as 'sha1' | 'sha256' | 'sha384' | 'sha512' };
}

/**
 * True when node:crypto refuses RSA_PKCS1_PADDING private decryption: the Marvin-attack fix
 * (CVE-2023-46809) in Node 18.19.1/20.11.1/21.6.2+ throws ERR_INVALID_ARG_VALUE unless node runs
 * with `--security-revert=CVE-2023-46809` (or OpenSSL offers implicit rejection).
 */
export function isPkcs1Refusal(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_INVALID_ARG_VALUE';
}

/** How to enable PKCS#1 v1.5 decryption, for error messages and docs. */
export const PKCS1_HOW_TO_ENABLE =
  'this Node.js refuses RSA PKCS#1 v1.5 decryption (CVE-2023-46809, the Marvin attack); run node with --security-revert=CVE-2023-46809 to allow it, or re-encrypt with OAEP';

let probe: boolean | undefined;

/**
 * Whether this Node.js process can decrypt RSA PKCS#1 v1.5. Node 20 refuses it unless started
 * with `node --security-revert=CVE-2023-46809` (NODE_OPTIONS cannot carry that flag). Probes
 * once, with a throwaway 1024-bit key, and caches the answer. Use it to report skipped PKCS#1
 * test vectors instead of counting them as failures.
 *
 * @example
 * ```ts
 * if (!pkcs1DecryptAvailable()) console.warn('skipping PKCS#1 v1.5 vectors: needs --security-revert=CVE-2023-46809');
 * ```
 */
export function pkcs1DecryptAvailable(): boolean {
  if (probe === undefined) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const message = Buffer.from('pkcs1 probe');
    try {
      const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message);
      probe = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, ct).equals(message);
    } catch {
      probe = false;
    }
  }
  return probe;
}
