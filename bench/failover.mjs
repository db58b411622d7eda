// Failover: 1,000 decrypts with kms-local adding 20 ms per region, (a) all healthy, (b) primary
// blackholed. Ours (MultiRegionKeyring) vs the SDK's MRK-aware multi-keyring on the same setup;
// the SDK needs a deadline (an AbortSignal is not part of its API: a request timeout on its
// clients), or a blackholed primary hangs it.
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand, KMS } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decrypt, encrypt } from '@envelope/core';
import { kmsClientSupplier, kmsOperations } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring } from '@envelope/keyring-multi-region';
import { startKmsLocal } from '@envelope/kms-local';
import { buildAwsKmsMrkAwareDiscoveryMultiKeyringNode, buildClient, CommitmentPolicy } from '@aws-crypto/client-node';
import { missing } from './lib.mjs';

const pct = (a, p) => a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];

export async function failoverBench({ count }) {
  const kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2'], port: 0 });
  try {
    const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata?.Arn ?? missing('key ARN');
    const replica =
      (await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata?.Arn ??
      missing('replica key ARN');
    const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 60_000 } });
    const ours = new MultiRegionKeyring({
      keys: [{ keyId: primary }, { keyId: replica }],
      kms: kmsOperations(kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 2000 })),
      health,
      deadlineMs: 5000,
      callTimeoutMs: 2000,
    });
    const sdkTimeoutMs = 1000;
    const sdkClient = (region) =>
      new KMS({
        region,
        endpoint: kms.url,
        credentials: kms.credentials,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ requestTimeout: sdkTimeoutMs, throwOnRequestTimeout: true }),
      });
    // The SDK refuses related MRKs in one strict multi-keyring; its MRK-aware discovery
    // multi-keyring over both regions is the equivalent (it tries the regions in order).
    const sdkKeyring = buildAwsKmsMrkAwareDiscoveryMultiKeyringNode({
      regions: ['us-east-1', 'us-west-2'],
      clientProvider: sdkClient,
      discoveryFilter: { partition: 'aws', accountIDs: [kms.accountId] },
    });
    const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const { ciphertext } = await encrypt(Buffer.from('failover bench'), { keyring: ours, suite: 0x0478 });
    const run = async (fn, n = count) => {
      const t = [];
      let failures = 0;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        try {
          await fn();
        } catch {
          failures++;
        }
        t.push(performance.now() - t0);
      }
      t.sort((a, b) => a - b);
      return { p50: pct(t, 50), p99: pct(t, 99), max: t[t.length - 1], failures };
    };
    const out = {};
    for (const r of ['us-east-1', 'us-west-2']) kms.setFault(r, { mode: 'latency', latencyMs: 20 });
    out.healthyOurs = await run(() => decrypt(ciphertext, { keyring: ours }));
    out.healthySdk = await run(() => sdk.decrypt(sdkKeyring, ciphertext));
    kms.setFault('us-east-1', { mode: 'blackhole' });
    out.blackholedOurs = await run(() => decrypt(ciphertext, { keyring: ours }));
    const after = out.blackholedOurs;
    // Each SDK decrypt waits out its client timeout on the silent primary: 50 are enough to show it.
    out.blackholedSdk = await run(() => sdk.decrypt(sdkKeyring, ciphertext), Math.min(count, 50));
    // A healthy single-region decrypt, for the "after the breaker opens" comparison.
    const single = new MultiRegionKeyring({
      keys: [{ keyId: replica }],
      kms: kmsOperations(kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials })),
      health: new HealthRegistry(),
    });
    out.singleRegion = await run(() => decrypt(ciphertext, { keyring: single }));
    return {
      case: `failover, ${count} decrypts, 20 ms per region`,
      count,
      sdkTimeoutMs,
      ...out,
      p50VsSingle: after.p50 / out.singleRegion.p50,
    };
  } finally {
    await kms.close();
  }
}
