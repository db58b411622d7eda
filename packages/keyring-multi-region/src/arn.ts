/** The parts of a KMS key ARN the multi-region keyring reasons about. */
import { EnvelopeError } from '@envelope/core';

export interface KeyArn {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The key id: a UUID, or `mrk-…` for a multi-region key. */
  readonly keyId: string;
  readonly multiRegion: boolean;
}

/** Parses `arn:<partition>:kms:<region>:<account>:key/<id>`; undefined for anything else. */
export function parseKeyArn(arn: string): KeyArn | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'kms') return undefined;
  const [, partition, , region, account, resource] = parts as [string, string, string, string, string, string];
  if (!partition || !region || !account || !resource.startsWith('key/')) return undefined;
  const keyId = resource.slice(4);
  if (!keyId) return undefined;
  return { arn, partition, region, account, keyId, multiRegion: keyId.startsWith('mrk-') };
}

export function requireKeyArn(arn: unknown, param: string): KeyArn {
  const k = typeof arn === 'string' ? parseKeyArn(arn) : undefined;
  if (!k) throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', `${param}: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
  return k;
}

/** Same key material: identical ARNs, or replicas of one multi-region key in any region. */
export function sameKey(a: KeyArn, b: KeyArn): boolean {
  if (a.arn === b.arn) return true;
  return a.multiRegion && b.multiRegion && a.partition === b.partition && a.account === b.account && a.keyId === b.keyId;
}
