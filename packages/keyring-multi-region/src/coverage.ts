/**
 * Which of a multi-region keyring's regions can open a message, judged from its header's EDKs
 * alone (no KMS call): the one judgement behind `envelope dr-report` (coverage, what a region's
 * loss would cost) and `envelope rewrap --mode repair` (which regions to add), so that the
 * report and the repair can never disagree about what a message lacks.
 *
 * A region covers a message when the message holds an `aws-kms` EDK that the region's
 * configured key opens: the same key, or (multi-region keys) a replica of it in any region, as
 * decrypt judges it ({@link decryptPairs}). EDKs of other providers and of unrelated keys cover
 * nothing.
 */
import type { EncryptedDataKey } from '@envelope/core';
import { KMS_PROVIDER_ID } from '@envelope/keyring-kms';
import { parseKeyArn, sameKey, type KeyArn } from './arn.js';
import { decryptPairs } from './decrypt.js';

/** A message's coverage against a keyring's regions (each list in the keyring's key order). */
export interface RegionCoverage {
  /** Regions whose configured key opens one of the message's EDKs. */
  readonly covered: readonly string[];
  /** The keyring's other regions: the message's data key is not wrapped there. */
  readonly missing: readonly string[];
  /** EDKs that none of the keyring's keys opens (other providers, other keys). */
  readonly foreign: number;
}

/**
 * The regions of `keys` that can open a message with these EDKs, and the ones that cannot.
 *
 * @example
 * ```ts
 * const { missing } = regionCoverage(keyring.keys, header.encryptedDataKeys);
 * if (missing.length) console.log(`repair: add ${missing.join(', ')}`);
 * ```
 */
export function regionCoverage(keys: readonly KeyArn[], edks: readonly EncryptedDataKey[]): RegionCoverage {
  const opened = decryptPairs(keys, edks);
  const covered: string[] = [];
  const missing: string[] = [];
  for (const k of keys) (opened.has(k) ? covered : missing).push(k.region);
  const foreign = edks.filter((e) => !ours(keys, e)).length;
  return { covered, missing, foreign };
}

/**
 * The covered regions that survive losing `lost`: empty when the message would become
 * unreadable through this keyring.
 */
export function survivingRegions(coverage: RegionCoverage, lost: ReadonlySet<string>): string[] {
  return coverage.covered.filter((r) => !lost.has(r));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function ours(keys: readonly KeyArn[], edk: EncryptedDataKey): boolean {
  if (edk.providerId !== KMS_PROVIDER_ID) return false;
  let arn;
  try {
    arn = parseKeyArn(utf8.decode(edk.providerInfo));
  } catch {
    return false;
  }
  return arn !== undefined && keys.some((k) => sameKey(k, arn));
}
