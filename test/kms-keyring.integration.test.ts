/**
 * KMS keyrings against kms-local over real HTTP with the real @aws-sdk/client-kms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { decrypt, encrypt } from '@envelope/core';
import { KmsDiscoveryKeyring, KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';

let kms: KmsLocal;
let clients: ReturnType<typeof kmsClientSupplier>;
const keys: Record<string, string> = {};
let mrk: { east: string; west: string; eu: string };

async function createKey(region: string, multiRegion = false): Promise<string> {
  const c = new KMSClient({ region, endpoint: kms.url, credentials: kms.credentials });
  return (await c.send(new CreateKeyCommand({ MultiRegion: multiRegion }))).KeyMetadata!.Arn!;
}

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2', 'eu-west-1'], port: 0 });
  clients = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 500 });
  for (const r of kms.regions) keys[r] = await createKey(r);
  const east = await createKey('us-east-1', true);
  const c = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
  const west = (await c.send(new ReplicateKeyCommand({ KeyId: east, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata!.Arn!;
  const eu = (await c.send(new ReplicateKeyCommand({ KeyId: east, ReplicaRegion: 'eu-west-1' }))).ReplicaKeyMetadata!.Arn!;
  mrk = { east, west, eu };
});
afterAll(() => kms.close());

const pt = Buffer.from('kms keyring integration');

describe('KmsKeyring against kms-local', () => {
  it('generator in one region plus keys in two more; each region alone decrypts', async () => {
    const keyring = new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-east-1'], keyIds: [keys['us-west-2']!, keys['eu-west-1']!] });
    kms.resetStats();
    const { ciphertext, messageInfo } = await encrypt(pt, { keyring, encryptionContext: { app: 'it' } });
    expect(messageInfo.encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString())).toEqual([keys['us-east-1'], keys['us-west-2'], keys['eu-west-1']]);
    expect(kms.stats()).toEqual({ 'us-east-1': { GenerateDataKey: 1 }, 'us-west-2': { Encrypt: 1 }, 'eu-west-1': { Encrypt: 1 } });
    for (const r of kms.regions) {
      const single = new KmsKeyring({ clientSupplier: clients, keyIds: [keys[r]!] });
      expect(Buffer.from((await decrypt(ciphertext, { keyring: single })).plaintext).equals(pt)).toBe(true);
    }
  });

  it('the encryption context reaches KMS: a changed context cannot unwrap', async () => {
    const keyring = new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-east-1'] });
    const { ciphertext } = await encrypt(pt, { keyring, encryptionContext: { app: 'it' }, suite: 0x0478 });
    // Rewrite the stored context value in place (same length), so KMS sees a different context.
    const bad = Buffer.from(ciphertext);
    const at = bad.indexOf(Buffer.from('it'), 40);
    bad.write('IT', at);
    await expect(decrypt(bad, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY', causes: [{ reason: 'InvalidCiphertextException', region: 'us-east-1' }] });
  });

  it('a multi-region key: written in us-east-1, decrypted by the replica in eu-west-1 with its own ARN', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: mrk.east }) });
    kms.resetStats();
    const { plaintext } = await decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: clients, keyIds: [mrk.eu] }) });
    expect(Buffer.from(plaintext).equals(pt)).toBe(true);
    expect(kms.stats()).toEqual({ 'eu-west-1': { Decrypt: 1 } });
  });

  it('discovery with a filter: the right account decrypts, another account is not tried; MRK rewritten to a listed region', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-west-2'] }) });
    const ok = new KmsDiscoveryKeyring({ clientSupplier: clients, regions: ['us-west-2'], discoveryFilter: { partition: 'aws', accountIds: [kms.accountId] } });
    expect(Buffer.from((await decrypt(ciphertext, { keyring: ok })).plaintext).equals(pt)).toBe(true);
    const other = new KmsDiscoveryKeyring({ clientSupplier: clients, regions: ['us-west-2'], discoveryFilter: { partition: 'aws', accountIds: ['999999999999'] } });
    await expect(decrypt(ciphertext, { keyring: other })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const wrongRegion = new KmsDiscoveryKeyring({ clientSupplier: clients, regions: ['eu-west-1'] });
    await expect(decrypt(ciphertext, { keyring: wrongRegion })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const m = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: mrk.east }) });
    kms.resetStats();
    await decrypt(m.ciphertext, { keyring: new KmsDiscoveryKeyring({ clientSupplier: clients, regions: ['eu-west-1'] }) });
    expect(kms.stats()).toEqual({ 'eu-west-1': { Decrypt: 1 } });
  });

  it('rotation: messages written before RotateKeyOnDemand keep decrypting', async () => {
    const keyring = new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['eu-west-1'] });
    const before = await encrypt(pt, { keyring });
    await new KMSClient({ region: 'eu-west-1', endpoint: kms.url, credentials: kms.credentials }).send(new RotateKeyOnDemandCommand({ KeyId: keys['eu-west-1'] }));
    const after = await encrypt(pt, { keyring });
    for (const m of [before, after]) expect(Buffer.from((await decrypt(m.ciphertext, { keyring })).plaintext).equals(pt)).toBe(true);
  });
});

describe('every kms-local fault gives a bounded, coded failure', () => {
  const cases = [
    { mode: 'blackhole' as const, reason: /ENVELOPE_TIMEOUT|TimeoutError/ },
    { mode: 'refuse' as const, reason: /ECONNRESET|EPIPE|Error/ },
    { mode: 'error' as const, errorRate: 1, reason: /KMSInternalException/ },
    { mode: 'throttle' as const, ratePerSecond: 0, reason: /ThrottlingException/ },
  ];
  for (const c of cases) {
    it(`${c.mode}: fails within the deadline with the region and reason`, async () => {
      const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-west-2'] }) });
      const keyring = new KmsKeyring({ clientSupplier: clients, keyIds: [keys['us-west-2']!], callTimeoutMs: 400, maxRetries: 2, baseDelayMs: 10, maxDelayMs: 20 });
      kms.setFault('us-west-2', c);
      try {
        const t0 = performance.now();
        const err = await decrypt(ciphertext, { keyring }).catch((e) => e);
        const ms = performance.now() - t0;
        expect(err).toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
        expect(err.causes[0]).toMatchObject({ key: keys['us-west-2'], region: 'us-west-2' });
        expect(err.causes[0].reason).toMatch(c.reason);
        // Three attempts of at most 400 ms each plus jitter: bounded, not minutes.
        expect(ms).toBeLessThan(3 * 400 + 500);
      } finally {
        kms.setFault('us-west-2', { mode: 'none' });
      }
    });
  }

  it('the caller’s AbortSignal ends a call to a blackholed region at once', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: clients, generatorKeyId: keys['us-west-2'] }) });
    kms.setFault('us-west-2', { mode: 'blackhole' });
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const t0 = performance.now();
      await expect(decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: clients, keyIds: [keys['us-west-2']!], callTimeoutMs: 10_000 }), signal: ac.signal })).rejects.toMatchObject({
        code: 'ENVELOPE_ABORTED',
      });
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      kms.setFault('us-west-2', { mode: 'none' });
    }
  });
});
