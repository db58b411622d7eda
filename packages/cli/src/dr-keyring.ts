/**
 * The multi-region keyring behind `dr-report` and `rewrap --mode repair`: K's regions, what a
 * header covers of them, and K restricted to some regions. The judgement of coverage itself is
 * keyring-multi-region's (CoverageJudge): the report and the repair share it, so what
 * the report lists as missing is exactly what the repair adds.
 */
import type { EncryptedDataKey, Keyring } from '@envelope/core';
import type { MultiRegionKeyring, RegionCoverage } from '@envelope/keyring-multi-region';
import { UsageError } from './io.js';

/** K, built from its configuration, seen for disaster recovery. */
export interface DrKeyring {
  /** K as built (audited when an audit sink is configured). */
  readonly keyring: Keyring;
  /** K's regions, primary first. */
  readonly regions: readonly string[];
  /** Which of K's regions can open a message with these EDKs, from the header alone. */
  coverage(edks: readonly EncryptedDataKey[]): RegionCoverage;
  /** K's keys in `regions` only (same health registry, pacer, clients and audit), policy `all`. */
  through(regions: readonly string[]): Keyring;
}

/**
 * Views a built keyring as K for disaster recovery; `flag` names it in the error when it is not
 * an `aws-kms-multi-region` keyring (ENVELOPE_USAGE).
 */
export async function drKeyring(built: Keyring, flag: string): Promise<DrKeyring> {
  const [{ MultiRegionKeyring, CoverageJudge }, { AuditingKeyring }] = await Promise.all([
    import('@envelope/keyring-multi-region'),
    import('@envelope/config'),
  ]);
  const audited = built instanceof AuditingKeyring ? built : undefined;
  const inner = audited ? audited.inner : built;
  if (!(inner instanceof MultiRegionKeyring)) {
    throw new UsageError(`${flag}: expected an aws-kms-multi-region keyring configuration (its regions are what is reported and repaired)`);
  }
  const mr: MultiRegionKeyring = inner;
  const judge = new CoverageJudge(mr.keys);
  const cache = new Map<string, Keyring>();
  return {
    keyring: built,
    regions: mr.regions,
    coverage: (edks) => judge.coverage(edks),
    through(regions) {
      const key = [...regions].sort().join(',');
      let k = cache.get(key);
      if (!k) {
        const restricted = mr.restrictedTo(regions);
        k = audited ? audited.auditing(restricted) : restricted;
        cache.set(key, k);
      }
      return k;
    },
  };
}
