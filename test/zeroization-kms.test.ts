/**
 * Zeroization audit (issue #10), KMS: the KMS keyrings and the multi-region keyring against
 * kms-local over real HTTP with the real @aws-sdk/client-kms wipe every SDK Plaintext and every
 * copy, also an answer that lands after the keyring's deadline or after another region won.
 * Late answers are held by the test and released after a ManualClock deadline, never timed by
 * sleeps. The capture harness is test/zeroization/capture.ts.
 */
import { cap, captured, captures, expectAllWiped, turns } from './zeroization/capture.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
} from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EncryptionMaterials, decrypt, encrypt, getSuite } from '@envelope/core';
import {
  KmsDiscoveryKeyring,
  KmsKeyring,
  ManualClock,
  decryptDataKey,
  fromSdkClient,
  kmsOperations,
  type KmsClient,
  type KmsClientSupplier,
} from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring, type KmsOperations } from '@envelope/keyring-multi-region';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { pt, quietEncrypt } from './zeroization/fixtures.js';

/** Requests to one region, held until the test releases them. */
interface Hold {
  readonly region: string;
  /** Resolves when the first request has arrived and is held. */
  readonly entered: Promise<void>;
  /** What the middleware awaits before sending. */
  wait(): Promise<void>;
  release(): void;
}

function holdRegion(region: string): Hold {
  let enter!: () => void;
  let open!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const released = new Promise<void>((r) => (open = r));
  return {
    region,
    entered,
    wait: () => {
      enter();
      return released;
    },
    release: open,
  };
}

describe('KMS keyrings against kms-local (real HTTP, real @aws-sdk/client-kms)', () => {
  const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
  let kms: KmsLocal;
  const sdks: KMSClient[] = [];
  const keys: Record<string, string> = {};
  let mrk: string[];

  beforeAll(async () => {
    kms = await startKmsLocal({ regions: REGIONS, port: 0 });
    const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: { ...kms.credentials } });
    sdks.push(admin);
    for (const r of REGIONS) {
      const c = new KMSClient({ region: r, endpoint: kms.url, credentials: { ...kms.credentials } });
      sdks.push(c);
      keys[r] = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    }
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
    mrk = [primary];
    for (const r of REGIONS.slice(1))
      mrk.push((await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: r }))).ReplicaKeyMetadata!.Arn!);
  });
  afterAll(async () => {
    for (const c of sdks) c.destroy();
    await kms?.close();
  });
  afterEach(() => kms.reset());

  /**
   * A client supplier over real SDK clients with a middleware that records every response's
   * Plaintext. `ignoreSignal`: the calls do not pass the caller's signal to the SDK, so a late
   * answer arrives after the keyring gave up on it (as one already in flight may). `hold`: requests
   * to `hold.region` wait for `hold.release()` before they are sent (the test decides when the
   * answer comes; the keyring's deadlines run on a ManualClock).
   */
  function capturingSupplier(o: { ignoreSignal?: boolean; hold?: Hold } = {}): KmsClientSupplier {
    const clients = new Map<string, KmsClient>();
    return (region) => {
      let c = clients.get(region);
      if (!c) {
        const sdk = new KMSClient({
          region,
          endpoint: kms.url,
          credentials: { ...kms.credentials },
          maxAttempts: 1,
          requestHandler: new NodeHttpHandler({ requestTimeout: 5000, connectionTimeout: 1000, throwOnRequestTimeout: true }),
        });
        sdk.middlewareStack.add(
          (next) => async (args) => {
            if (o.hold?.region === region) await o.hold.wait();
            const r = await next(args);
            cap.record('kms-sdk-plaintext', (r.output as { Plaintext?: unknown }).Plaintext, 'aws-sdk');
            return r;
          },
          { step: 'initialize', name: 'zeroizationCapture' },
        );
        sdks.push(sdk);
        c = o.ignoreSignal
          ? {
              generateDataKey: (input) => sdk.send(new GenerateDataKeyCommand(input)),
              encrypt: (input) => sdk.send(new EncryptCommand(input)),
              decrypt: (input) => sdk.send(new DecryptCommand(input)),
            }
          : fromSdkClient(sdk);
        clients.set(region, c);
      }
      return c;
    };
  }

  it('KmsKeyring: GenerateDataKey + Encrypt in two more regions; Decrypt; every SDK Plaintext and copy wiped', async () => {
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier(),
      generatorKeyId: keys['us-east-1'],
      keyIds: [keys['us-west-2']!, keys['eu-west-1']!],
    });
    const { ciphertext } = await encrypt(pt, { keyring, encryptionContext: { app: 'z' } });
    for (const r of REGIONS)
      await decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), keyIds: [keys[r]!] }) });
    expectAllWiped({ 'kms-sdk-plaintext': 4, 'setDataKey-arg': 4, 'materials-own': 4, 'dek-copy': 1, 'derived-key': 4 });
  });

  it('KmsKeyring: a further key failing after GenerateDataKey succeeded — encrypt fails, nothing stays', async () => {
    kms.setFault('eu-west-1', { mode: 'error' });
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier(),
      generatorKeyId: keys['us-east-1'],
      keyIds: [keys['eu-west-1']!],
      maxRetries: 0,
    });
    await expect(encrypt(pt, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    expectAllWiped({ 'kms-sdk-plaintext': 1, 'materials-own': 1, 'dek-copy': 1 });
  });

  it('KmsDiscoveryKeyring, and an MRK replica decrypting in another region', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), generatorKeyId: mrk[0]! }) });
    await decrypt(ciphertext, {
      keyring: new KmsDiscoveryKeyring({
        clientSupplier: capturingSupplier(),
        regions: ['eu-west-1'],
        discoveryFilter: { partition: 'aws', accountIds: [kms.accountId] },
      }),
    });
    await decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), keyIds: [mrk[1]!] }) });
    expectAllWiped({ 'kms-sdk-plaintext': 3, 'materials-own': 3, 'derived-key': 3 });
  });

  it('decryptDataKey refusing what KMS returned (wrong length): the SDK buffer and our copy are wiped', async () => {
    const em = await new KmsKeyring({ clientSupplier: capturingSupplier(), generatorKeyId: keys['us-east-1'] }).onEncrypt(
      new EncryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {} }),
    );
    const edk = em.encryptedDataKeys[0]!;
    em.zeroize();
    cap.log.length = 0;
    const supplier = capturingSupplier();
    await expect(
      decryptDataKey({
        client: supplier('us-east-1'),
        keyArn: keys['us-east-1']!,
        ciphertext: edk.ciphertext,
        numberOfBytes: 16,
        encryptionContext: {},
      }),
    ).rejects.toMatchObject({
      causes: [{ reason: 'MalformedResponse' }],
    });
    expectAllWiped({ 'kms-sdk-plaintext': 1 });
  });

  it('a Decrypt answer that arrives after the keyring’s deadline is wiped when it lands', async () => {
    const ciphertext = await quietEncrypt(pt, {
      keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), generatorKeyId: keys['us-east-1'] }),
    });
    const clock = new ManualClock();
    const hold = holdRegion('us-east-1');
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier({ ignoreSignal: true, hold }),
      keyIds: [keys['us-east-1']!],
      callTimeoutMs: 80,
      maxRetries: 0,
      clock,
    });
    const failed = expect(decrypt(ciphertext, { keyring })).rejects.toMatchObject({
      code: 'ENVELOPE_TIMEOUT',
      causes: [{ reason: expect.stringMatching(/Timeout/) }],
    });
    await hold.entered;
    await clock.advance(80);
    await failed;
    expect(captured('kms-sdk-plaintext')).toEqual([]); // not yet answered
    hold.release();
    await captures('kms-sdk-plaintext');
    await turns(2);
    expectAllWiped({ 'kms-sdk-plaintext': 1 });
    expect(captured('materials-own')).toEqual([]);
  });

  it('a GenerateDataKey answer after the deadline is wiped when it lands', async () => {
    const clock = new ManualClock();
    const hold = holdRegion('us-east-1');
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier({ ignoreSignal: true, hold }),
      generatorKeyId: keys['us-east-1'],
      callTimeoutMs: 80,
      maxRetries: 0,
      clock,
    });
    const failed = expect(encrypt(pt, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    await hold.entered;
    await clock.advance(80);
    await failed;
    hold.release();
    await captures('kms-sdk-plaintext');
    await turns(2);
    expectAllWiped({ 'kms-sdk-plaintext': 1 });
  });

  describe('MultiRegionKeyring', () => {
    /** kmsOperations over the capturing supplier; `ignoreSignal` ops finish (and answer) after the keyring gave up. */
    function ops(o: { ignoreSignal?: boolean; hold?: Hold } = {}): KmsOperations {
      const real = kmsOperations(capturingSupplier({ hold: o.hold }));
      const never = new AbortController().signal;
      return {
        generateDataKey: async (a) => {
          const r = await real.generateDataKey(o.ignoreSignal ? { ...a, signal: never } : a);
          cap.record('kms-op-plaintext', r.plaintext, 'kms-operations');
          return r;
        },
        encrypt: (a) => real.encrypt(o.ignoreSignal ? { ...a, signal: never } : a),
        decrypt: async (a) => {
          const r = await real.decrypt(o.ignoreSignal ? { ...a, signal: never } : a);
          cap.record('kms-op-plaintext', r.plaintext, 'kms-operations');
          return r;
        },
      };
    }
    const keyring = (k: string[], kmsOps: KmsOperations, extra: Partial<ConstructorParameters<typeof MultiRegionKeyring>[0]> = {}) =>
      new MultiRegionKeyring({
        keys: k.map((keyId) => ({ keyId })),
        kms: kmsOps,
        health: new HealthRegistry(),
        deadlineMs: 3000,
        hedgeAfterMs: 30,
        ...extra,
      });

    it('independent keys and MRK replicas: encrypt, decrypt with failover; every plaintext wiped', async () => {
      const independent = REGIONS.map((r) => keys[r]!);
      for (const k of [independent, mrk]) {
        const { ciphertext } = await encrypt(pt, { keyring: keyring(k, ops()) });
        kms.setFault('us-east-1', { mode: 'error' });
        await decrypt(ciphertext, { keyring: keyring(k, ops()) });
        kms.reset();
      }
      expectAllWiped({ 'kms-sdk-plaintext': 4, 'kms-op-plaintext': 4, 'materials-own': 4, 'dek-copy': 1 });
    });

    it('a hedged Decrypt: the slow region’s answer, arriving after another region won, is wiped', async () => {
      const independent = REGIONS.map((r) => keys[r]!);
      const ciphertext = await quietEncrypt(pt, { keyring: keyring(independent, ops()) });
      const clock = new ManualClock();
      const hold = holdRegion('us-east-1');
      const p = decrypt(ciphertext, {
        keyring: keyring(independent, ops({ ignoreSignal: true, hold }), { health: new HealthRegistry({ clock }) }),
      });
      await hold.entered;
      await clock.advance(30); // the hedge to the next region
      await p;
      hold.release();
      await captures('kms-op-plaintext', 2);
      await turns(2);
      expectAllWiped({ 'kms-sdk-plaintext': 2, 'kms-op-plaintext': 2, 'materials-own': 1 });
    });

    it('quorum encrypt with the primary too slow: the local data key and the primary’s late answer are wiped', async () => {
      const independent = REGIONS.map((r) => keys[r]!);
      const clock = new ManualClock();
      const hold = holdRegion('us-east-1');
      const k = keyring(independent, ops({ ignoreSignal: true, hold }), {
        encryptPolicy: { quorum: 2 },
        callTimeoutMs: 250,
        health: new HealthRegistry({ clock }),
      });
      const p = encrypt(pt, { keyring: k });
      await hold.entered;
      await clock.advance(250); // the primary's call times out; the others carry the quorum
      const { warnings } = await p;
      expect(warnings.map((w) => w.code)).toEqual(['DEGRADED_ENCRYPT']);
      hold.release();
      await captures('kms-op-plaintext');
      await turns(2);
      expectAllWiped({ 'kms-sdk-plaintext': 1, 'kms-op-plaintext': 1, 'setDataKey-arg': 1, 'materials-own': 1, 'dek-copy': 2 });
    });
  });
});
