/** Test helpers: materials for a suite and context, and byte checks. */
import {
  DecryptionMaterials,
  EncryptionMaterials,
  getSuite,
  isEnvelopeError,
  type EncryptionContext,
  type ErrorCode,
} from '@envelope/core';

/** One suite per data-key length, plus the default committing suite. */
export const SUITE_BY_KEY_LENGTH = {
  16: getSuite(0x0014),
  24: getSuite(0x0046),
  32: getSuite(0x0478),
} as const;

export const CONTEXT: EncryptionContext = Object.freeze({ purpose: 'test', tenant: 'acme' });

export function encryptionMaterials(keyLength: 16 | 24 | 32 = 32, encryptionContext: EncryptionContext = CONTEXT): EncryptionMaterials {
  return new EncryptionMaterials({ suite: SUITE_BY_KEY_LENGTH[keyLength], encryptionContext });
}

export function decryptionMaterials(keyLength: 16 | 24 | 32 = 32, encryptionContext: EncryptionContext = CONTEXT): DecryptionMaterials {
  return new DecryptionMaterials({ suite: SUITE_BY_KEY_LENGTH[keyLength], encryptionContext });
}

export function isZero(b: Uint8Array): boolean {
  return b.byteLength > 0 && b.every((x) => x === 0);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Runs `fn`, expects an EnvelopeError with `code`, and returns it for further assertions. */
export async function expectCode(fn: () => unknown, code: ErrorCode): Promise<import('@envelope/core').EnvelopeError> {
  try {
    await fn();
  } catch (e) {
    if (isEnvelopeError(e, code)) return e;
    throw new Error(`expected ${code}, got ${(e as { code?: string }).code ?? e}`, { cause: e });
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}
