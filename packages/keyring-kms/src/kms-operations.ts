/**
 * The multi-region keyring's view of KMS: three operations, one region and one signal per call
 * ({@link KmsOperations}), and {@link kmsOperations}, which runs them through this package's
 * building blocks (data-key.ts) over a region → client supplier.
 */
import { decryptDataKey, encryptDataKey, generateDataKey, type KmsCallOptions } from './data-key.js';
import type { KmsClientSupplier } from './kms-client.js';
import { Retrier } from './retry.js';

/**
 * The three KMS operations the multi-region keyring needs, one region and one signal per call.
 * {@link kmsOperations} adapts a client supplier; tests may supply their own. Failures should
 * be classifiable by `reasonOf` (the building blocks' coded errors with one cause are).
 */
export interface KmsOperations {
  generateDataKey(args: {
    region: string;
    keyId: string;
    numberOfBytes: number;
    encryptionContext: Readonly<Record<string, string>>;
    signal: AbortSignal;
  }): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array; keyArn: string }>;
  encrypt(args: {
    region: string;
    keyId: string;
    plaintext: Uint8Array;
    encryptionContext: Readonly<Record<string, string>>;
    signal: AbortSignal;
  }): Promise<{ ciphertext: Uint8Array; keyArn: string }>;
  /** Must fail if KMS reports a key other than `keyArn`. */
  decrypt(args: {
    region: string;
    keyArn: string;
    ciphertext: Uint8Array;
    encryptionContext: Readonly<Record<string, string>>;
    signal: AbortSignal;
  }): Promise<{ plaintext: Uint8Array }>;
}

/**
 * {@link KmsOperations} over a client supplier: one region per call, under the caller's
 * signal. Default: one attempt per call, unpaced, with a 60 s backstop deadline, because the
 * multi-region keyring sets its own deadlines, paces each region and retries throttling
 * itself, and hedges across regions instead of retrying in place; pass a `retrier` to change
 * that.
 *
 * @example
 * ```ts
 * new MultiRegionKeyring({ keys, kms: kmsOperations(kmsClientSupplier({ endpoint })) });
 * ```
 */
export function kmsOperations(
  supplier: KmsClientSupplier,
  o: { grantTokens?: readonly string[] | undefined; retrier?: Retrier } = {},
): KmsOperations {
  const retrier = o.retrier ?? new Retrier({ maxRetries: 0, callTimeoutMs: 60_000 });
  const common = (a: { region: string; encryptionContext: Readonly<Record<string, string>>; signal: AbortSignal }): KmsCallOptions => ({
    client: supplier(a.region),
    region: a.region,
    encryptionContext: a.encryptionContext,
    grantTokens: o.grantTokens,
    retrier,
    signal: a.signal,
  });
  return {
    async generateDataKey(a) {
      const r = await generateDataKey({ ...common(a), keyId: a.keyId, numberOfBytes: a.numberOfBytes });
      return { plaintext: r.plaintext, ciphertext: r.edk.ciphertext, keyArn: r.keyArn };
    },
    async encrypt(a) {
      const r = await encryptDataKey({ ...common(a), keyId: a.keyId, plaintext: a.plaintext });
      return { ciphertext: r.edk.ciphertext, keyArn: r.keyArn };
    },
    async decrypt(a) {
      // The data-key length is checked by the caller (it knows the suite).
      return { plaintext: await decryptDataKey({ ...common(a), keyArn: a.keyArn, ciphertext: a.ciphertext }) };
    },
  };
}
