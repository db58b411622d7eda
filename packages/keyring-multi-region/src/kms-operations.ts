/**
 * The three KMS operations the multi-region keyring needs, one region and one signal per call.
 * `kmsOperations()` adapts @envelope/keyring-kms; tests may supply their own.
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
