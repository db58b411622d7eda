/**
 * Commitment policies (spec: framework/commitment-policy.md#commitment-policy)
 * (spec: client-apis/client.md#commitment-policy).
 */
import { EnvelopeError, invalidArgument } from './errors.js';
import type { AlgorithmSuite } from './suites.js';

export type CommitmentPolicy = 'FORBID_ENCRYPT_ALLOW_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT';

export const DEFAULT_COMMITMENT_POLICY: CommitmentPolicy = 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT';

const POLICIES: readonly CommitmentPolicy[] = [
  'FORBID_ENCRYPT_ALLOW_DECRYPT',
  'REQUIRE_ENCRYPT_ALLOW_DECRYPT',
  'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
];

export function parseCommitmentPolicy(p: unknown): CommitmentPolicy {
  if (p === undefined) return DEFAULT_COMMITMENT_POLICY;
  if (typeof p === 'string' && (POLICIES as readonly string[]).includes(p)) return p as CommitmentPolicy;
  throw invalidArgument('commitmentPolicy', `expected one of ${POLICIES.join(', ')}`);
}

/** Throws unless `suite` may be used to encrypt under `policy`. */
export function assertEncryptAllowed(policy: CommitmentPolicy, suite: AlgorithmSuite): void {
  const ok = policy === 'FORBID_ENCRYPT_ALLOW_DECRYPT' ? !suite.commitment : suite.commitment;
  if (!ok) {
    throw new EnvelopeError('ENVELOPE_COMMITMENT_POLICY', `commitment policy ${policy} does not allow encrypting with suite ${suite.name}`);
  }
}

/** Throws unless a message of `suite` may be decrypted under `policy`. */
export function assertDecryptAllowed(policy: CommitmentPolicy, suite: AlgorithmSuite): void {
  if (policy === 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' && !suite.commitment) {
    throw new EnvelopeError(
      'ENVELOPE_COMMITMENT_POLICY',
      `commitment policy ${policy} does not allow decrypting a message with non-committing suite ${suite.name}`,
    );
  }
}
