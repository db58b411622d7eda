// Coverage (which of a keyring's regions a header's EDKs open: the one judgement behind
// dr-report and rewrap --mode repair) and restrictedTo (the keyring's keys in some regions),
// on the in-memory KMS and a manual clock.
import { describe, expect, it } from 'vitest';
import { encrypt, parseHeader, rewrap, type EncryptedDataKey } from '@envelope/core';
import { ManualClock } from '@envelope/keyring-kms';
import { CoverageJudge, HealthRegistry, MultiRegionKeyring, parseKeyArn, regionCoverage } from '../src/index.js';
import { FakeKms } from './fake-kms.js';

const acct = '111122223333';
const arn = (region: string, id: string) => `arn:aws:kms:${region}:${acct}:key/${id}`;
const independent = [arn('us-east-1', 'k-east'), arn('us-west-2', 'k-west'), arn('eu-west-1', 'k-eu')];
const mrk = ['us-east-1', 'us-west-2', 'eu-west-1'].map((r) => arn(r, 'mrk-0123456789abcdef0123456789abcdef'));
const keys = (arns: string[]) => arns.map((a) => parseKeyArn(a)!);
const edk = (providerInfo: string, providerId = 'aws-kms'): EncryptedDataKey => ({
  providerId,
  providerInfo: new TextEncoder().encode(providerInfo),
  ciphertext: new Uint8Array(8),
});
const limits = { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 };

function setup() {
  const clock = new ManualClock();
  const kms = new FakeKms(clock);
  const health = new HealthRegistry({ clock, breaker: { failureThreshold: 3, openMs: 200 } });
  const keyring = new MultiRegionKeyring({ keys: independent.map((keyId) => ({ keyId })), kms, health, encryptPolicy: { quorum: 2 } });
  return { clock, kms, health, keyring };
}

describe('regionCoverage', () => {
  it('independent keys: a region covers a message when the message holds an EDK of its key', () => {
    const c = regionCoverage(keys(independent), [edk(independent[0]!), edk(independent[2]!)]);
    expect(c).toEqual({ covered: ['us-east-1', 'eu-west-1'], missing: ['us-west-2'], foreign: 0 });
  });

  it('multi-region keys: one EDK of any replica covers every replica region', () => {
    expect(regionCoverage(keys(mrk), [edk(mrk[1]!)])).toEqual({
      covered: ['us-east-1', 'us-west-2', 'eu-west-1'],
      missing: [],
      foreign: 0,
    });
  });

  it('other providers, other keys, aliases and bytes that are no ARN cover nothing and are counted as foreign', () => {
    const c = regionCoverage(keys(independent), [
      edk(independent[1]!),
      edk('key-1', 'raw-aes'),
      edk(arn('us-east-1', 'someone-else')),
      edk(`arn:aws:kms:us-east-1:${acct}:alias/k-east`),
      { providerId: 'aws-kms', providerInfo: new Uint8Array([0xff, 0xfe]), ciphertext: new Uint8Array(1) },
    ]);
    expect(c).toEqual({ covered: ['us-west-2'], missing: ['us-east-1', 'eu-west-1'], foreign: 4 });
  });

  it('a judge remembers keys across headers and gives the same answers', () => {
    const judge = new CoverageJudge(keys(independent));
    const headers = [[edk(independent[0]!)], [edk(independent[0]!), edk(independent[1]!)], [edk('x', 'raw-aes')], [edk(independent[0]!)]];
    expect(headers.map((h) => judge.coverage(h))).toEqual(headers.map((h) => regionCoverage(keys(independent), h)));
  });
});

describe('MultiRegionKeyring.restrictedTo', () => {
  it('wraps a data key in just the regions asked for, which then cover the message', async () => {
    const { clock, kms, keyring } = setup();
    kms.fault('us-west-2', { mode: 'hang' });
    const { ciphertext, warnings } = await clock.run(encrypt(Buffer.from('hi'), { keyring, suite: 0x0478 }), 10_000);
    expect(warnings.map((w) => w.code)).toEqual(['DEGRADED_ENCRYPT']);
    const before = regionCoverage(keyring.keys, parseHeader(ciphertext, limits).encryptedDataKeys);
    expect(before.missing).toEqual(['us-west-2']);
    const only = keyring.restrictedTo(before.missing);
    expect(only.regions).toEqual(['us-west-2']);
    expect(only.encryptPolicy).toBe('all');
    // Same registry: what it learns about a region is the keyring's.
    expect(only.health).toBe(keyring.health);
    expect(only.pacer).toBe(keyring.pacer);
    // The region is back: a header-only rewrap adds its EDK, calling KMS there only to wrap.
    kms.fault('us-west-2', { mode: 'ok' });
    await clock.advance(60_000); // past the breaker's cool-down
    kms.calls.length = 0;
    const { message } = await clock.run(rewrap(ciphertext, { from: keyring, to: only, mode: 'add' }), 10_000);
    expect(kms.calls.filter((c) => !c.startsWith('done') && c.startsWith('Encrypt'))).toEqual(['Encrypt:us-west-2']);
    expect(regionCoverage(keyring.keys, parseHeader(message, limits).encryptedDataKeys)).toEqual({
      covered: ['us-east-1', 'us-west-2', 'eu-west-1'],
      missing: [],
      foreign: 0,
    });
  });

  it('refuses regions the keyring does not have, and an empty list', () => {
    const { keyring } = setup();
    expect(() => keyring.restrictedTo(['ap-south-1'])).toThrow(/not ap-south-1/);
    expect(() => keyring.restrictedTo([])).toThrow(/one or more of this keyring's regions/);
  });
});
