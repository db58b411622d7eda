#!/usr/bin/env node
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Quota-aware failover (issue 18.4) on kms-local: the primary region blackholed, the secondary
// throttled to N requests a second through the admin API (PUT /_admin/faults/<region>
// {"mode":"throttle","ratePerSecond":N}), and an open-loop offered load of 2 × N operations a
// second for a while, through a MultiRegionKeyring over two replicas of a multi-region key.
// Reports, per phase, the goodput, every error by code, the secondary's breaker transitions and
// the KMS calls it received; with the caching materials manager, the same load's KMS calls.
// kms-local runs in a child process, as `envelope kms-local` would, so that its CPU is not the
// client's.
//   node bench/quota-failover.mjs [--seconds 30] [--rate 20] [--phases decrypt,encrypt,encrypt-cached,decrypt-cached]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { decrypt, encrypt } from '@envelope/core';
import { CachingMaterialsManager } from '@envelope/caching';
import { RegionPacer, kmsClientSupplier, kmsOperations } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring } from '@envelope/keyring-multi-region';
import { missing } from './lib.mjs';

const PRIMARY = 'us-east-1';
const SECONDARY = 'us-west-2';
export const PHASES = ['decrypt', 'encrypt', 'encrypt-cached', 'decrypt-cached'];

const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : NaN);

/**
 * Runs the phases; each gets a fresh keyring, health registry and pacer (nothing learned
 * before), the same faults, and `seconds` of load at 2 × `rate` operations a second.
 */
export async function quotaFailoverBench({ seconds = 30, rate = 20, phases = PHASES, log = (/** @type {string} */ _line) => {} } = {}) {
  const kms = await startServer();
  try {
    const admin = new KMSClient({ region: PRIMARY, endpoint: kms.url, credentials: kms.credentials });
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata?.Arn ?? missing('key ARN');
    const replica =
      (await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: SECONDARY }))).ReplicaKeyMetadata?.Arn ??
      missing('replica key ARN');
    const supplier = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 2000 });
    const makeKeyring = () => {
      const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 2000, maxOpenMs: 30_000 } });
      const pacer = new RegionPacer();
      const keyring = new MultiRegionKeyring({
        keys: [{ keyId: primary }, { keyId: replica }],
        kms: kmsOperations(supplier),
        health,
        pacer,
        deadlineMs: 5000,
        callTimeoutMs: 2000,
      });
      return { keyring, health, pacer };
    };
    // Messages made while both regions are healthy: the decrypt load's working set.
    const healthy = makeKeyring().keyring;
    const pool = [];
    for (let i = 0; i < rate; i++) pool.push((await encrypt(Buffer.from(`record ${i}`), { keyring: healthy, suite: 0x0478 })).ciphertext);

    const fault = (region, body) => kms.admin('PUT', `faults/${region}`, body);
    const results = {};
    for (const phase of phases) {
      await fault(PRIMARY, { mode: 'blackhole' });
      await fault(SECONDARY, { mode: 'throttle', ratePerSecond: rate });
      await kms.admin('POST', 'reset-stats');
      const { keyring, health, pacer } = makeKeyring();
      const transitions = [];
      health.on('change', (e) => transitions.push({ region: e.region, from: e.from, to: e.to }));
      const cached = phase.endsWith('-cached');
      const materialsManager = cached
        ? new CachingMaterialsManager({ underlying: keyring, maxAgeMs: 60_000, maxMessagesEncrypted: 100 })
        : undefined;
      const using = materialsManager ? { materialsManager } : { keyring };
      const op = phase.startsWith('decrypt')
        ? (i) => decrypt(pool[i % pool.length], using)
        : (i) => encrypt(Buffer.from(`event ${i}`), { ...using, suite: 0x0478 });
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      const r = await openLoop(op, 2 * rate, seconds);
      lag.disable();
      const stats = await kms.admin('GET', 'stats');
      const calls = (region) => Object.values(stats[region] ?? {}).reduce((a, b) => a + b, 0);
      const secondaryTransitions = transitions.filter((t) => t.region === SECONDARY);
      const pace = pacer.snapshot().find((p) => p.region === SECONDARY);
      results[phase] = {
        rate,
        seconds,
        offered: r.offered,
        ok: r.ok,
        goodput: r.ok / seconds,
        goodputOverN: r.ok / seconds / rate,
        steadyGoodput: r.steady,
        steadyGoodputOverN: r.steady / rate,
        errors: r.errors,
        onlyThrottles: Object.keys(r.errors).every((c) => c === 'ENVELOPE_THROTTLED'),
        latencyMs: { p50: pct(r.latencies, 50), p99: pct(r.latencies, 99) },
        // The client's event-loop delay: on a loaded machine, stalls delay answers past deadlines.
        eventLoopDelayMs: { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
        secondaryBreaker: { transitions: secondaryTransitions, closedThroughout: secondaryTransitions.length === 0 },
        primaryBreaker: transitions.filter((t) => t.region === PRIMARY).map((t) => t.to),
        secondaryCalls: calls(SECONDARY),
        secondaryCallsPerSecond: calls(SECONDARY) / seconds,
        primaryCalls: calls(PRIMARY),
        pacer: pace && { ratePerSecond: pace.ratePerSecond, throttles: pace.throttles, cuts: pace.cuts, refused: pace.refused },
      };
      log(
        `${phase}: offered ${r.offered} (${2 * rate}/s for ${seconds} s), goodput ${(r.ok / seconds).toFixed(1)}/s = ${((100 * r.ok) / seconds / rate).toFixed(0)}% of N=${rate} ` +
          `(steady ${r.steady.toFixed(1)}/s = ${((100 * r.steady) / rate).toFixed(0)}%); ` +
          `errors ${JSON.stringify(r.errors)}; ${SECONDARY} breaker ${secondaryTransitions.length ? JSON.stringify(secondaryTransitions) : 'closed throughout'}; ` +
          `${SECONDARY} received ${calls(SECONDARY)} calls (${(calls(SECONDARY) / seconds).toFixed(1)}/s), ${PRIMARY} ${calls(PRIMARY)}; learned rate ${pace?.ratePerSecond.toFixed(1)}/s; ` +
          `event-loop delay max ${(lag.max / 1e6).toFixed(0)} ms`,
      );
      await fault(PRIMARY, { mode: 'none' });
      await fault(SECONDARY, { mode: 'none' });
    }
    return results;
  } finally {
    await kms.stop();
  }
}

/** kms-local with both regions in a child process: its URL, credentials, admin API and stop. */
async function startServer() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('kms-local child exited before it was ready');
  const { url, credentials } = JSON.parse(first.value);
  return {
    url,
    credentials,
    /** The admin API (DESIGN.md): PUT faults/<region>, GET stats, POST reset-stats. */
    async admin(method, path, body) {
      const r = await globalThis.fetch(`${url}/_admin/${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!r.ok) throw new Error(`admin API ${method} ${path}: ${r.status} ${await r.text()}`);
      const text = await r.text();
      return text ? JSON.parse(text) : undefined;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.stdin.end();
      }),
  };
}

/** Starts `op(i)` at `perSecond` a second for `seconds`, whatever happens to earlier ones; waits for all. */
async function openLoop(op, perSecond, seconds) {
  const total = Math.round(perSecond * seconds);
  const errors = {};
  const latencies = [];
  let ok = 0;
  const done = [];
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    pending.push(
      op(i).then(
        () => {
          ok++;
          latencies.push(performance.now() - start);
          done.push(performance.now() - t0);
        },
        (e) => {
          const code = e?.code ?? e?.name ?? 'Error';
          errors[code] = (errors[code] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  // Steady state: successes completed after the first fifth of the run (the region's initial
  // burst and the learning), up to its end, per second.
  const from = (seconds * 1000) / 5;
  const steady = done.filter((t) => t >= from && t < seconds * 1000).length / (seconds - from / 1000);
  return { offered: total, ok, errors, latencies, steady };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string' }, rate: { type: 'string' }, phases: { type: 'string' }, serve: { type: 'boolean' } },
  });
  if (values.serve) {
    // The server process: kms-local on an ephemeral port until stdin closes.
    const { startKmsLocal } = await import('@envelope/kms-local');
    const kms = await startKmsLocal({ regions: [PRIMARY, SECONDARY], port: 0 });
    process.stdout.write(`${JSON.stringify({ url: kms.url, credentials: kms.credentials })}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => void kms.close().then(() => process.exit(0)));
  } else {
    const r = await quotaFailoverBench({
      seconds: Number(values.seconds ?? 30),
      rate: Number(values.rate ?? 20),
      phases: values.phases?.split(',') ?? PHASES,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  }
}
