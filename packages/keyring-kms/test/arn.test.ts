/** ARN parsing, identifiers and MRK matching (spec: framework/aws-kms/aws-kms-key-arn.md#aws-kms-key-arn) (spec: framework/aws-kms/aws-kms-mrk-match-for-decrypt.md#implementation). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isKeyIdentifier, isMultiRegionIdentifier, mrkMatch, parseArn, parseKeyArn, regionOf, withRegion } from '../src/index.js';

const part = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const keyId = fc.stringMatching(/^[a-z0-9-]{1,20}$/);

describe('parseArn', () => {
  it('parses key and alias ARNs', () => {
    expect(parseArn('arn:aws:kms:us-east-1:111122223333:key/1234abcd')).toEqual({
      arn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd',
      partition: 'aws',
      service: 'kms',
      region: 'us-east-1',
      account: '111122223333',
      resourceType: 'key',
      resourceId: '1234abcd',
      multiRegion: false,
    });
    expect(parseArn('arn:aws-cn:kms:cn-north-1:1:alias/x')).toMatchObject({
      partition: 'aws-cn',
      resourceType: 'alias',
      resourceId: 'x',
      multiRegion: false,
    });
    expect(parseArn('arn:aws:kms:us-east-1:1:key/mrk-abc')).toMatchObject({ multiRegion: true });
  });

  it('keeps further slashes in the resource id', () => {
    expect(parseArn('arn:aws:kms:us-east-1:1:alias/team/orders')).toMatchObject({ resourceType: 'alias', resourceId: 'team/orders' });
  });

  it('an alias named mrk-… is not a multi-region key', () => {
    expect(parseArn('arn:aws:kms:us-east-1:1:alias/mrk-abc')?.multiRegion).toBe(false);
  });

  it.each([
    ['not an ARN', 'k'],
    ['wrong prefix', 'arx:aws:kms:us-east-1:1:key/k'],
    ['other service', 'arn:aws:s3:us-east-1:1:key/k'],
    ['empty partition', 'arn::kms:us-east-1:1:key/k'],
    ['empty region', 'arn:aws:kms::1:key/k'],
    ['empty account', 'arn:aws:kms:us-east-1::key/k'],
    ['empty resource id', 'arn:aws:kms:us-east-1:1:key/'],
    ['no resource type', 'arn:aws:kms:us-east-1:1:/k'],
    ['no slash', 'arn:aws:kms:us-east-1:1:key'],
    ['unknown resource type', 'arn:aws:kms:us-east-1:1:grant/k'],
    ['too few parts', 'arn:aws:kms:us-east-1:key/k'],
    ['too many parts (6 colons)', 'arn:aws:kms:us-east-1:1:key/k:extra'],
  ])('rejects %s', (_, s) => {
    expect(parseArn(s)).toBeUndefined();
  });

  it('parseKeyArn accepts keys only', () => {
    expect(parseKeyArn('arn:aws:kms:us-east-1:1:key/k')).toBeDefined();
    expect(parseKeyArn('arn:aws:kms:us-east-1:1:alias/k')).toBeUndefined();
    expect(regionOf('arn:aws:kms:eu-west-1:1:key/k')).toBe('eu-west-1');
    expect(regionOf('alias/k')).toBeUndefined();
  });

  it('round-trips any well-formed ARN (property)', () => {
    fc.assert(
      fc.property(part, part, part, fc.constantFrom('key', 'alias'), keyId, (partition, region, account, type, id) => {
        const arn = `arn:${partition}:kms:${region}:${account}:${type}/${id}`;
        const p = parseArn(arn)!;
        expect(p).toMatchObject({
          partition,
          region,
          account,
          resourceType: type,
          resourceId: id,
          multiRegion: type === 'key' && id.startsWith('mrk-'),
        });
        expect(withRegion(p, region)).toBe(arn);
      }),
    );
  });

  it('never throws on arbitrary input (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseArn(s)));
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => void mrkMatch(a, b)));
  });
});

describe('identifiers', () => {
  it('valid identifiers: ARNs, alias/…, bare key ids', () => {
    for (const ok of [
      'arn:aws:kms:us-east-1:1:key/k',
      'arn:aws:kms:us-east-1:1:alias/a',
      'alias/orders',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'mrk-1234',
    ])
      expect(isKeyIdentifier(ok), ok).toBe(true);
    for (const bad of ['', 'arn:aws:kms:us-east-1:1:key/', 'arn:nope', 'alias/', 'a b', 'x:y', 'key/k'])
      expect(isKeyIdentifier(bad), bad).toBe(false);
  });

  it('multi-region identifiers (aws-kms-key-arn.md)', () => {
    expect(isMultiRegionIdentifier('mrk-1')).toBe(true);
    expect(isMultiRegionIdentifier('arn:aws:kms:us-east-1:1:key/mrk-1')).toBe(true);
    expect(isMultiRegionIdentifier('alias/mrk-1')).toBe(false);
    expect(isMultiRegionIdentifier('arn:aws:kms:us-east-1:1:alias/mrk-1')).toBe(false);
    expect(isMultiRegionIdentifier('1234')).toBe(false);
    expect(isMultiRegionIdentifier('arn:aws:kms:us-east-1:1:key/1234')).toBe(false);
  });
});

describe('mrkMatch', () => {
  const a = (region: string, id: string, account = '111122223333', partition = 'aws') =>
    `arn:${partition}:kms:${region}:${account}:key/${id}`;

  it('identical identifiers match (even non-ARNs)', () => {
    expect(mrkMatch(a('us-east-1', 'k'), a('us-east-1', 'k'))).toBe(true);
    expect(mrkMatch('alias/x', 'alias/x')).toBe(true);
  });
  it('an mrk matches its replicas in any region', () => {
    expect(mrkMatch(a('us-east-1', 'mrk-1'), a('eu-west-1', 'mrk-1'))).toBe(true);
  });
  it('but not another account, partition, id or an alias', () => {
    expect(mrkMatch(a('us-east-1', 'mrk-1'), a('eu-west-1', 'mrk-1', '999'))).toBe(false);
    expect(mrkMatch(a('us-east-1', 'mrk-1'), a('eu-west-1', 'mrk-1', '111122223333', 'aws-cn'))).toBe(false);
    expect(mrkMatch(a('us-east-1', 'mrk-1'), a('eu-west-1', 'mrk-2'))).toBe(false);
    expect(mrkMatch(a('us-east-1', 'mrk-1'), 'arn:aws:kms:eu-west-1:111122223333:alias/mrk-1')).toBe(false);
    expect(mrkMatch(a('us-east-1', 'mrk-1'), 'mrk-1')).toBe(false);
  });
  it('single-region keys only match themselves', () => {
    expect(mrkMatch(a('us-east-1', 'k'), a('eu-west-1', 'k'))).toBe(false);
  });
  it('is symmetric, and a region change matches exactly for mrk keys (property)', () => {
    fc.assert(
      fc.property(part, part, part, keyId, fc.boolean(), (r1, r2, account, id, mrk) => {
        const kid = mrk ? `mrk-${id}` : id.startsWith('mrk-') ? `k${id}` : id;
        const x = a(r1, kid, account);
        const y = a(r2, kid, account);
        expect(mrkMatch(x, y)).toBe(mrkMatch(y, x));
        expect(mrkMatch(x, y)).toBe(r1 === r2 || mrk);
      }),
    );
  });
});
