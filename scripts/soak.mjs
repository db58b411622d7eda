#!/usr/bin/env node
/**
 * Soak: mixed encrypt / decrypt / rewrap through a multi-region keyring while kms-local injects
 * random faults (every mode, every region, changing every few seconds).
 *
 *   node scripts/soak.mjs [--seconds 3600] [--json]
 *
 * Checks: every failure is a coded EnvelopeError; every operation ends within its deadline
 * (plus a margin); every acknowledged message decrypts at the end (faults cleared); memory stays
 * flat (RSS sampled; growth reported). Exit 1 on any violation. Needs the built packages.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { EnvelopeError, decrypt, encrypt, rewrap } from '@envelope/core';
import { kmsClientSupplier, kmsOperations } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring } from '@envelope/keyring-multi-region';
import { startKmsLocal } from '@envelope/kms-local';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3600' }, json: { type: 'boolean' } } });
const seconds = Number(values.seconds);
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const DEADLINE = 3000;
const kms = await startKmsLocal({ regions: REGIONS, port: 0 });
const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata.Arn;
const keys = [primary];
for (const r of REGIONS.slice(1)) keys.push((await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: r }))).ReplicaKeyMetadata.Arn);
const supplier = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 1000 });
const keyring = new MultiRegionKeyring({
  keys: keys.map((keyId) => ({ keyId })),
  kms: kmsOperations(supplier),
  encryptPolicy: 'primary',
  health: new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 1000 } }),
  deadlineMs: DEADLINE,
  callTimeoutMs: 800,
});
const second = new MultiRegionKeyring({ keys: [{ keyId: keys[2] }, { keyId: keys[1] }], kms: kmsOperations(supplier), deadlineMs: DEADLINE, callTimeoutMs: 800 });

const MODES = [{ mode: 'none' }, { mode: 'blackhole' }, { mode: 'refuse' }, { mode: 'error', errorRate: 0.5 }, { mode: 'throttle', ratePerSecond: 20 }, { mode: 'latency', latencyMs: 200 }];
const faultTimer = setInterval(() => {
  for (const r of REGIONS) kms.setFault(r, MODES[Math.floor(Math.random() * MODES.length)]);
}, 2000);

const acknowledged = [];
const stats = { encrypt: 0, decrypt: 0, rewrap: 0, codedFailures: 0, uncoded: [], overDeadline: 0, maxMs: 0 };
const rss0 = process.memoryUsage().rss;
const rss = [];
const end = Date.now() + seconds * 1000;
let lastSample = 0;

async function op() {
  const roll = Math.random();
  const t0 = performance.now();
  try {
    if (roll < 0.4 || acknowledged.length === 0) {
      const pt = randomBytes(64 + Math.floor(Math.random() * 4096));
      const { ciphertext } = await encrypt(pt, { keyring, suite: Math.random() < 0.5 ? 0x0478 : 0x0578, encryptionContext: { soak: 'yes' } });
      acknowledged.push({ ct: ciphertext, pt });
      stats.encrypt++;
    } else if (roll < 0.85) {
      const m = acknowledged[Math.floor(Math.random() * acknowledged.length)];
      const { plaintext } = await decrypt(m.ct, { keyring });
      if (Buffer.compare(Buffer.from(plaintext), m.pt) !== 0) throw new Error('decrypted plaintext differs');
      stats.decrypt++;
    } else {
      const i = Math.floor(Math.random() * acknowledged.length);
      const r = await rewrap(acknowledged[i].ct, { from: keyring, to: second, mode: 'add' });
      acknowledged[i] = { ct: r.message, pt: acknowledged[i].pt };
      stats.rewrap++;
    }
  } catch (e) {
    if (e instanceof EnvelopeError) stats.codedFailures++;
    else stats.uncoded.push(String(e?.stack ?? e).split('\n')[0]);
  }
  const ms = performance.now() - t0;
  stats.maxMs = Math.max(stats.maxMs, ms);
  // A rewrap may decrypt and re-encrypt (signed suites): two bounded phases.
  if (ms > 2 * DEADLINE + 1000) stats.overDeadline++;
}

await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (Date.now() < end) {
      await op();
      if (Date.now() - lastSample > 1000) {
        lastSample = Date.now();
        rss.push(process.memoryUsage().rss);
      }
    }
  }),
);
clearInterval(faultTimer);
for (const r of REGIONS) kms.setFault(r, { mode: 'none' });
let lost = 0;
for (const m of acknowledged) {
  try {
    const { plaintext } = await decrypt(m.ct, { keyring });
    if (Buffer.compare(Buffer.from(plaintext), m.pt) !== 0) lost++;
  } catch {
    lost++;
  }
}
await kms.close();
const half = rss.slice(Math.floor(rss.length / 2));
const report = {
  seconds,
  ...stats,
  uncoded: stats.uncoded.length,
  uncodedSamples: stats.uncoded.slice(0, 3),
  acknowledged: acknowledged.length,
  lostAtEnd: lost,
  maxMs: Math.round(stats.maxMs),
  rssStartMiB: Math.round(rss0 / 2 ** 20),
  rssMaxSecondHalfMiB: Math.round(Math.max(...half, rss0) / 2 ** 20),
};
process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `soak: ${JSON.stringify(report)}\n`);
process.exitCode = report.uncoded || report.lostAtEnd || report.overDeadline ? 1 : 0;
