/**
 * KMS key ARNs and identifiers (spec: framework/aws-kms/aws-kms-key-arn.md#aws-kms-key-arn) and
 * multi-region key matching
 * (spec: framework/aws-kms/aws-kms-mrk-match-for-decrypt.md#implementation).
 */

/** The parts of a valid AWS KMS ARN. */
export interface KeyArn {
  /** The ARN as given. */
  readonly arn: string;
  readonly partition: string;
  /** Always `kms`. */
  readonly service: string;
  readonly region: string;
  readonly account: string;
  /** `key` or `alias`. */
  readonly resourceType: string;
  readonly resourceId: string;
  /** A key (not an alias) whose id starts with `mrk-`. */
  readonly multiRegion: boolean;
}

/**
 * Parses `arn:<partition>:kms:<region>:<account>:<key|alias>/<id>`; undefined if it is not a
 * valid AWS KMS ARN.
 *
 * (spec: framework/aws-kms/aws-kms-key-arn.md#a-valid-aws-kms-arn): exactly 5 `:` delimit 6 parts;
 * `arn`; non-empty partition; service `kms`; non-empty region and account; the resource splits at
 * the first `/` (further `/` belong to the id) into type `alias` or `key` and a non-empty id.
 *
 * @example
 * ```ts
 * parseArn('arn:aws:kms:eu-west-1:111122223333:key/mrk-1234')?.multiRegion; // true
 * parseArn('alias/orders'); // undefined: an identifier, not an ARN
 * ```
 */
export function parseArn(arn: string): KeyArn | undefined {
  if (typeof arn !== 'string') return undefined;
  const parts = arn.split(':');
  if (parts.length !== 6) return undefined;
  const [prefix, partition, service, region, account, resource] = parts as [string, string, string, string, string, string];
  if (prefix !== 'arn' || !partition || service !== 'kms' || !region || !account) return undefined;
  const slash = resource.indexOf('/');
  if (slash <= 0) return undefined;
  const resourceType = resource.slice(0, slash);
  const resourceId = resource.slice(slash + 1);
  if ((resourceType !== 'key' && resourceType !== 'alias') || !resourceId) return undefined;
  // (spec: framework/aws-kms/aws-kms-key-arn.md#identifying-an-an-aws-kms-multi-region-arn):
  // aliases are never MRKs.
  const multiRegion = resourceType === 'key' && resourceId.startsWith('mrk-');
  return { arn, partition, service, region, account, resourceType, resourceId, multiRegion };
}

/** A valid ARN whose resource type is `key` (what an `aws-kms` EDK must name), or undefined. */
export function parseKeyArn(arn: string): KeyArn | undefined {
  const a = parseArn(arn);
  return a?.resourceType === 'key' ? a : undefined;
}

/**
 * (spec: framework/aws-kms/aws-kms-key-arn.md#a-valid-aws-kms-identifier): a valid ARN, an alias
 * (`alias/…`), or a bare key id. Anything that starts with `arn:` must be a valid ARN.
 */
export function isKeyIdentifier(id: string): boolean {
  if (typeof id !== 'string' || id === '' || /\s/.test(id)) return false;
  if (id.startsWith('arn:')) return parseArn(id) !== undefined;
  if (id.startsWith('alias/')) return id.length > 'alias/'.length;
  return !id.includes(':') && !id.includes('/');
}

/** (spec: framework/aws-kms/aws-kms-key-arn.md#identifying-an-an-aws-kms-multi-region-identifier) */
export function isMultiRegionIdentifier(id: string): boolean {
  if (id.startsWith('arn:')) return parseArn(id)?.multiRegion ?? false;
  if (id.startsWith('alias/')) return false;
  return id.startsWith('mrk-');
}

/** The region a key identifier names, if it is an ARN. */
export function regionOf(keyId: string): string | undefined {
  return parseArn(keyId)?.region;
}

/**
 * (spec: framework/aws-kms/aws-kms-mrk-match-for-decrypt.md#implementation): identical identifiers
 * match; otherwise both must be multi-region key ARNs equal in every part but the region.
 *
 * @example
 * ```ts
 * mrkMatch('arn:aws:kms:us-east-1:111122223333:key/mrk-1', 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1'); // true
 * mrkMatch('arn:aws:kms:us-east-1:111122223333:key/k-1', 'arn:aws:kms:eu-west-1:111122223333:key/k-1'); // false
 * ```
 */
export function mrkMatch(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseArn(a);
  const y = parseArn(b);
  if (!x?.multiRegion || !y?.multiRegion) return false;
  return (
    x.partition === y.partition &&
    x.service === y.service &&
    x.account === y.account &&
    x.resourceType === y.resourceType &&
    x.resourceId === y.resourceId
  );
}

/** The same ARN in another region (MRK-aware discovery calls a replica with this ARN). */
export function withRegion(k: KeyArn, region: string): string {
  return `arn:${k.partition}:${k.service}:${region}:${k.account}:${k.resourceType}/${k.resourceId}`;
}

/**
 * A well-formed AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`,
 * `us-iso-east-1`): lowercase words joined by `-`, ending in a number; at most 32 characters.
 * A region taken from an untrusted header must pass this before it names a client or a
 * hostname.
 */
export function isRegionName(region: string): boolean {
  return typeof region === 'string' && region.length <= 32 && /^[a-z]{2}(-[a-z0-9]+)+-\d{1,2}$/.test(region);
}
