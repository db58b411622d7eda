/**
 * KMS key ARNs (spec: framework/aws-kms/aws-kms-key-arn.md) and multi-region key matching
 * (aws-kms-mrk-match-for-decrypt.md).
 */
export interface KeyArn {
  readonly arn: string;
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly multiRegion: boolean;
}

/** Parses an ARN `arn:<partition>:kms:<region>:<account>:<type>/<id>`; undefined if it is not a valid KMS ARN. */
export function parseArn(arn: string): KeyArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  const resource = parts.slice(5).join(':');
  const slash = resource.indexOf('/');
  if (!partition || service !== 'kms' || !region || !account || slash <= 0) return undefined;
  const resourceType = resource.slice(0, slash);
  const resourceId = resource.slice(slash + 1);
  if ((resourceType !== 'key' && resourceType !== 'alias') || !resourceId) return undefined;
  return { arn, partition, service, region, account, resourceType, resourceId, multiRegion: resourceType === 'key' && resourceId.startsWith('mrk-') };
}

/** A key ARN (resource type key), or undefined. */
export function parseKeyArn(arn: string): KeyArn | undefined {
  const a = parseArn(arn);
  return a?.resourceType === 'key' ? a : undefined;
}

/** The region a key identifier names, if it is an ARN. */
export function regionOf(keyId: string): string | undefined {
  return parseArn(keyId)?.region;
}

/** Identical, or the same multi-region key in any region. */
export function mrkMatch(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseKeyArn(a);
  const y = parseKeyArn(b);
  if (!x || !y || !x.multiRegion || !y.multiRegion) return false;
  return x.partition === y.partition && x.account === y.account && x.resourceId === y.resourceId;
}

/** The same ARN with another region (for MRK-aware discovery). */
export function withRegion(k: KeyArn, region: string): string {
  return `arn:${k.partition}:kms:${region}:${k.account}:${k.resourceType}/${k.resourceId}`;
}
