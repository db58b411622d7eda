/** Argument checks, EDK parsing and the decrypt-attempt cap shared by the KMS keyrings (internal). */
import { type DecryptionMaterials, type EncryptedDataKey, type KeyFailure, invalidArgument, rethrowIfAborted } from '@envelope/core';
import { failuresFrom } from './errors.js';
import { ATTEMPT_LIMIT } from './failure-kind.js';
import { parseKeyArn, type KeyArn } from './arn.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function checkSupplier(o: { clientSupplier?: unknown } | undefined): void {
  if (!o || typeof o.clientSupplier !== 'function') throw invalidArgument('clientSupplier', 'expected a region → client function');
}

export function checkGrantTokens(t: unknown): readonly string[] | undefined {
  if (t === undefined) return undefined;
  if (!Array.isArray(t) || t.some((x) => typeof x !== 'string' || x === ''))
    throw invalidArgument('grantTokens', 'expected an array of non-empty strings');
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
    rethrowIfAborted(err);
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

/**
 * The per-keyring cap on KMS Decrypt calls in one onDecrypt (issue 15.11): an EDK list comes
 * from an untrusted header, so without a cap a forged header of 100 EDKs costs 100 calls. The
 * first EDK over the cap is recorded as an `AttemptLimit` failure; later ones are counted.
 */
export class AttemptCap {
  /** The default cap: enough for a message wrapped under a few keys and replicas. */
  static readonly DEFAULT = 5;
  used = 0;
  skipped = 0;

  constructor(readonly max: number) {}

  /** Validates a `maxDecryptAttempts` option (a positive integer), or gives the default. */
  static check(v: unknown): number {
    if (v === undefined) return AttemptCap.DEFAULT;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidArgument('maxDecryptAttempts', 'expected a positive integer');
    return v;
  }

  /** True if one more attempt is allowed (and counts it); otherwise records why not. */
  take(causes: KeyFailure[], key: string, region: string | undefined): boolean {
    if (this.used < this.max) {
      this.used++;
      return true;
    }
    if (this.skipped++ === 0) causes.push({ key, region, reason: ATTEMPT_LIMIT });
    return false;
  }
}
