#!/usr/bin/env node
/**
 * Soak: mixed encrypt / decrypt / rewrap through a multi-region keyring while kms-local injects
 * random faults (every mode, every region, changing every few seconds).
 *
 *   node scripts/soak.mjs [--seconds 3600] [--json]
 *
 * Checks: every failure is a coded EnvelopeError; every operation ends within its deadline
 * (plus a margin); every acknowledged message decrypts at the end (faults cleared); memory stays
 * flat (RSS sampled; growth after warm-up reported and bounded). Exit 1 on any violation.
 *
 * Acknowledged messages live in a bounded in-memory working set (decrypt and rewrap pick from it);
 * a message leaving the set is appended to a spool file (ciphertext + SHA-256 of its plaintext),
 * so an hour's worth of messages costs disk, not memory, and every one is checked at the end.
 * Needs the built packages.
 */
import { parseArgs } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
/** @param {string | undefined} arn */
const arnOf = (arn) => {
  if (!arn) throw new Error('kms-local returned no key ARN');
  return arn;
};
const primary = arnOf((await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata?.Arn);
const keys = [primary];
for (const r of REGIONS.slice(1))
  keys.push(arnOf((await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: r }))).ReplicaKeyMetadata?.Arn));
// A breaker whose probes keep failing doubles its cool-down; capped here at 8 s so that a region
// the random faults let go is probed again within a few fault periods.
const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 1000, maxOpenMs: 8000 } });
const supplier = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 1000 });
const keyring = new MultiRegionKeyring({
  keys: keys.map((keyId) => ({ keyId })),
  kms: kmsOperations(supplier),
  encryptPolicy: 'primary',
  health,
  deadlineMs: DEADLINE,
  callTimeoutMs: 800,
});
const second = new MultiRegionKeyring({
  keys: [{ keyId: arnOf(keys[2]) }, { keyId: arnOf(keys[1]) }],
  kms: kmsOperations(supplier),
  deadlineMs: DEADLINE,
  callTimeoutMs: 800,
});

/** @type {import('@envelope/kms-local').Fault[]} */
const MODES = [
  { mode: 'none' },
  { mode: 'blackhole' },
  { mode: 'refuse' },
  { mode: 'error', errorRate: 0.5 },
  { mode: 'throttle', ratePerSecond: 20 },
  { mode: 'latency', latencyMs: 200 },
];
const faultTimer = setInterval(() => {
  for (const r of REGIONS) kms.setFault(r, MODES[Math.floor(Math.random() * MODES.length)] ?? { mode: 'none' });
}, 2000);

const WORKING_SET = 512;
/** @typedef {{ ct: Uint8Array, pt: Buffer }} Acknowledged a message and its plaintext */
/** @type {Acknowledged[]} */
const acknowledged = [];
const spoolDir = mkdtempSync(path.join(tmpdir(), 'envelope-soak-'));
const spoolPath = path.join(spoolDir, 'acknowledged.bin');
const spool = openSync(spoolPath, 'w');
let spooled = 0;
/**
 * Appends one acknowledged message: u32 length, ciphertext, SHA-256 of the plaintext.
 * @param {Acknowledged} m
 */
function spoolOut(m) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(m.ct.length);
  writeSync(spool, len);
  writeSync(spool, m.ct);
  writeSync(spool, createHash('sha256').update(m.pt).digest());
  spooled++;
}
/**
 * Keeps `m` in the working set, spooling a random older one out when the set is full.
 * @param {Acknowledged} m
 */
function acknowledge(m) {
  if (acknowledged.length < WORKING_SET) acknowledged.push(m);
  else {
    const i = Math.floor(Math.random() * WORKING_SET);
    const old = acknowledged[i];
    if (old) spoolOut(old);
    acknowledged[i] = m;
  }
}
/** @type {number[]} */
const latencies = [];
/** @type {{ encrypt: number, decrypt: number, rewrap: number, codedFailures: number, allCircuitsOpen: number, uncoded: string[], overDeadline: number, maxMs: number }} */
const stats = { encrypt: 0, decrypt: 0, rewrap: 0, codedFailures: 0, allCircuitsOpen: 0, uncoded: [], overDeadline: 0, maxMs: 0 };
const rss0 = process.memoryUsage().rss;
/** @type {number[]} */
const rss = [];
const end = Date.now() + seconds * 1000;
let lastSample = 0;

async function op() {
  const roll = Math.random();
  const t0 = performance.now();
  try {
    if (roll < 0.4 || acknowledged.length === 0) {
      const pt = randomBytes(64 + Math.floor(Math.random() * 4096));
      const { ciphertext } = await encrypt(pt, {
        keyring,
        suite: Math.random() < 0.5 ? 0x0478 : 0x0578,
        encryptionContext: { soak: 'yes' },
      });
      acknowledge({ ct: ciphertext, pt });
      stats.encrypt++;
    } else if (roll < 0.85) {
      const m = /** @type {Acknowledged} */ (acknowledged[Math.floor(Math.random() * acknowledged.length)]);
      const { plaintext } = await decrypt(m.ct, { keyring });
      if (Buffer.compare(Buffer.from(plaintext), m.pt) !== 0) throw new Error('decrypted plaintext differs');
      stats.decrypt++;
    } else {
      const i = Math.floor(Math.random() * acknowledged.length);
      const m = /** @type {Acknowledged} */ (acknowledged[i]);
      const r = await rewrap(m.ct, { from: keyring, to: second, mode: 'add' });
      // The slot may have been recycled while the rewrap ran (the old message is then spooled).
      if (acknowledged[i] === m) acknowledged[i] = { ct: r.message, pt: m.pt };
      else acknowledge({ ct: r.message, pt: m.pt });
      stats.rewrap++;
    }
  } catch (e) {
    if (e instanceof EnvelopeError) {
      stats.codedFailures++;
      // Failed at once: every region's breaker was open (or its one probe out).
      if (e.causes?.length && e.causes.every((c) => c.reason === 'CircuitOpen')) stats.allCircuitsOpen++;
    } else stats.uncoded.push(String((e instanceof Error && e.stack) || e).split('\n')[0] ?? '');
  }
  const ms = performance.now() - t0;
  stats.maxMs = Math.max(stats.maxMs, ms);
  if (latencies.length < 200_000) latencies.push(ms);
  else latencies[Math.floor(Math.random() * latencies.length)] = ms;
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
const breakersAtEnd = Object.fromEntries(health.snapshot().map((h) => [h.region, `${h.breaker}/${h.failures}`]));
for (const r of REGIONS) kms.setFault(r, { mode: 'none' });
// The faults are cleared, but a breaker the last faults opened still fails calls at once until
// its cool-down ends (that is its job): wait it out, as an operator would, before checking.
await new Promise((r) => setTimeout(r, Math.max(0, ...health.snapshot().map((h) => h.retryInMs)) + 50));
for (const m of acknowledged) spoolOut(m);
closeSync(spool);
acknowledged.length = 0;

// Every acknowledged message, read back from the spool and decrypted with the faults cleared.
let lost = 0;
let checked = 0;
let checkRetries = 0;
/** @type {string[]} */
const lostSamples = [];
/**
 * Decrypts a spooled message; a transient KMS failure (a half-open breaker's probe still out) is retried, bounded.
 * @param {Uint8Array} ct
 */
async function decryptAtEnd(ct) {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await decrypt(ct, { keyring })).plaintext;
    } catch (e) {
      const transient =
        e instanceof EnvelopeError &&
        (['ENVELOPE_KMS', 'ENVELOPE_TIMEOUT', 'ENVELOPE_THROTTLED'].includes(e.code) ||
          (e.causes.length > 0 && e.causes.every((c) => c.reason === 'CircuitOpen')));
      if (!transient || attempt >= 5) throw e;
      checkRetries++;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
const fd = openSync(spoolPath, 'r');
let pos = 0;
function next() {
  const len = Buffer.alloc(4);
  if (readSync(fd, len, 0, 4, pos) < 4) return undefined;
  const n = len.readUInt32BE();
  const rec = Buffer.alloc(n + 32);
  if (readSync(fd, rec, 0, n + 32, pos + 4) < n + 32) throw new Error('spool truncated');
  pos += 4 + n + 32;
  return { ct: rec.subarray(0, n), digest: rec.subarray(n) };
}
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (let m = next(); m; m = next()) {
      checked++;
      try {
        const plaintext = await decryptAtEnd(m.ct);
        if (!createHash('sha256').update(plaintext).digest().equals(m.digest)) lost++;
      } catch (e) {
        lost++;
        if (lostSamples.length < 3)
          lostSamples.push(
            `${e instanceof EnvelopeError ? e.code : 'uncoded'}: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`,
          );
      }
    }
  }),
);
closeSync(fd);
rmSync(spoolDir, { recursive: true, force: true });
await kms.close();

// Memory: the baseline is the median of the samples in the first tenth (after warm-up), the
// growth is the peak of the second half over it.
const median = (/** @type {number[]} */ a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? rss0;
const warm = rss.slice(Math.max(1, Math.floor(rss.length / 20)), Math.max(2, Math.floor(rss.length / 10)));
const baseline = median(warm.length ? warm : rss);
const half = rss.slice(Math.floor(rss.length / 2));
const peakSecondHalf = Math.max(...half, baseline);
const sorted = latencies.sort((a, b) => a - b);
const pct = (/** @type {number} */ q) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
const MAX_GROWTH_MIB = 128;
const report = {
  seconds,
  ...stats,
  uncoded: stats.uncoded.length,
  uncodedSamples: stats.uncoded.slice(0, 3),
  acknowledged: spooled,
  checkedAtEnd: checked,
  lostAtEnd: lost,
  lostSamples,
  checkRetries,
  breakersAtEnd,
  p50Ms: pct(0.5),
  p99Ms: pct(0.99),
  maxMs: Math.round(stats.maxMs),
  rssStartMiB: Math.round(rss0 / 2 ** 20),
  rssBaselineMiB: Math.round(baseline / 2 ** 20),
  rssMaxSecondHalfMiB: Math.round(peakSecondHalf / 2 ** 20),
  rssGrowthMiB: Math.round((peakSecondHalf - baseline) / 2 ** 20),
};
const violations = [];
if (report.uncoded) violations.push('uncoded failures');
if (report.lostAtEnd) violations.push('messages lost');
if (report.checkedAtEnd !== report.acknowledged) violations.push('spool count mismatch');
if (report.overDeadline) violations.push('operations over the deadline');
if (report.rssGrowthMiB > MAX_GROWTH_MIB) violations.push(`RSS grew more than ${MAX_GROWTH_MIB} MiB`);
process.stdout.write(
  values.json ? `${JSON.stringify({ ...report, violations })}\n` : `soak: ${JSON.stringify({ ...report, violations })}\n`,
);
process.exitCode = violations.length ? 1 : 0;
