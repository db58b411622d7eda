/** Argument checks and EDK parsing shared by the two KMS keyrings (internal). */
import { EnvelopeError, type DecryptionMaterials, type EncryptedDataKey, type KeyFailure } from '@envelope/core';
import { failuresFrom } from './errors.js';
import { parseKeyArn, type KeyArn } from './arn.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function checkSupplier(o: { clientSupplier?: unknown } | undefined): void {
  if (!o || typeof o.clientSupplier !== 'function')
    throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'clientSupplier: expected a region → client function');
}

export function checkGrantTokens(t: unknown): readonly string[] | undefined {
  if (t === undefined) return undefined;
  if (!Array.isArray(t) || t.some((x) => typeof x !== 'string' || x === ''))
    throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'grantTokens: expected an array of non-empty strings');
  return Object.freeze([...(t as string[])]);
}

/** The key ARN an `aws-kms` EDK names (provider info, UTF-8), or undefined if it is not one. */
export function edkArn(e: EncryptedDataKey): KeyArn | undefined {
  let text: string;
  try {
    text = utf8.decode(e.providerInfo);
  } catch {
    return undefined;
  }
  return parseKeyArn(text);
}

/**
 * One unwrap attempt for a keyring's decrypt loop: sets the data key (and wipes the copy KMS
 * returned) and returns true, or records why it failed in `causes` and returns false. An abort
 * is not a failure of the key: it is rethrown.
 */
export async function unwrapInto(
  materials: DecryptionMaterials,
  causes: KeyFailure[],
  keyArn: string,
  region: string | undefined,
  unwrap: () => Promise<Uint8Array>,
): Promise<boolean> {
  let dk: Uint8Array;
  try {
    dk = await unwrap();
  } catch (err) {
    if (err instanceof EnvelopeError && err.code === 'ENVELOPE_ABORTED') throw err;
    causes.push(...failuresFrom(keyArn, region, err));
    return false;
  }
  try {
    materials.setDataKey(dk);
  } finally {
    dk.fill(0);
  }
  return true;
}
