/** KMS key ARNs for the multi-region keyring: keyring-kms's parser and MRK match, plus a check at the edge. */
import { invalidArgument } from '@envelope/core';
import { mrkMatch, parseKeyArn, type KeyArn } from '@envelope/keyring-kms';

export { parseKeyArn, type KeyArn };

export function requireKeyArn(arn: unknown, param: string): KeyArn {
  const k = typeof arn === 'string' ? parseKeyArn(arn) : undefined;
  if (!k) throw invalidArgument(param, 'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
  return k;
}

/** Same key material: identical ARNs, or replicas of one multi-region key in any region. */
export function sameKey(a: KeyArn, b: KeyArn): boolean {
  return mrkMatch(a.arn, b.arn);
}
