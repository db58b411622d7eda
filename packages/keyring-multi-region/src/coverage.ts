/**
 * Which of a multi-region keyring's regions can open a message, judged from its header's EDKs
 * alone (no KMS call): the one judgement behind `envelope dr-report` (coverage, what a region's
 * loss would cost) and `envelope rewrap --mode repair` (which regions to add), so that the
 * report and the repair can never disagree about what a message lacks.
 *
 * A region covers a message when the message holds an `aws-kms` EDK that the region's
 * configured key opens: the same key, or (multi-region keys) a replica of it in any region, by
 * the same test decrypt uses ({@link sameKey}; decrypt.ts). EDKs of other providers and of
 * unrelated keys cover nothing.
 */
import type { EncryptedDataKey } from '@envelope/core';
import { KMS_PROVIDER_ID } from '@envelope/keyring-kms';
import { parseKeyArn, sameKey, type KeyArn } from './arn.js';

/** A message's coverage against a keyring's regions (each list in the keyring's key order). */
export interface RegionCoverage {
  /** Regions whose configured key opens one of the message's EDKs. */
  readonly covered: readonly string[];
  /** The keyring's other regions: the message's data key is not wrapped there. */
  readonly missing: readonly string[];
  /** EDKs that none of the keyring's keys opens (other providers, other keys). */
  readonly foreign: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Judges many headers against one keyring's keys: which keys open an EDK's key is remembered by
 * the EDK's provider info (a report over 100,000 messages meets the same few ARNs again and
 * again; the memory is bounded).
 *
 * @example
 * ```ts
 * const judge = new CoverageJudge(keyring.keys);
 * const { missing } = judge.coverage(header.encryptedDataKeys);
 * if (missing.length) console.log(`repair: add ${missing.join(', ')}`);
 * ```
 */
export class CoverageJudge {
  /** Provider info (latin1 text) → indexes of the keys that open it. */
  readonly #memo = new Map<string, readonly number[]>();

  constructor(readonly keys: readonly KeyArn[]) {}

  /** The regions of the keys that can open a message with these EDKs, and the ones that cannot. */
  coverage(edks: readonly EncryptedDataKey[]): RegionCoverage {
    const opens = new Array<boolean>(this.keys.length).fill(false);
    let foreign = 0;
    for (const edk of edks) {
      const matched = edk.providerId === KMS_PROVIDER_ID ? this.#openers(edk.providerInfo) : [];
      if (matched.length === 0) foreign++;
      for (const i of matched) opens[i] = true;
    }
    const covered: string[] = [];
    const missing: string[] = [];
    this.keys.forEach((k, i) => (opens[i] ? covered : missing).push(k.region));
    return { covered, missing, foreign };
  }

  #openers(info: Uint8Array): readonly number[] {
    const id = Buffer.from(info.buffer, info.byteOffset, info.byteLength).toString('latin1');
    let found = this.#memo.get(id);
    if (found) return found;
    let arn: KeyArn | undefined;
    try {
      arn = parseKeyArn(utf8.decode(info));
    } catch {
      arn = undefined;
    }
    found = arn ? this.keys.flatMap((k, i) => (sameKey(k, arn) ? [i] : [])) : [];
    if (this.#memo.size >= 4096) this.#memo.clear();
    this.#memo.set(id, found);
    return found;
  }
}

/** {@link CoverageJudge.coverage} for one header. */
export function regionCoverage(keys: readonly KeyArn[], edks: readonly EncryptedDataKey[]): RegionCoverage {
  return new CoverageJudge(keys).coverage(edks);
}
