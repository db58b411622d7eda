/**
 * `envelope demo`: the whole mission in one command, no AWS account. kms-local starts
 * in-process with two regions; a multi-region key is created and replicated; a sample is
 * encrypted; the primary region is blackholed; the sample still decrypts, through the
 * secondary, in milliseconds.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { decrypt, encrypt } from '@envelope/core';
import { kmsClientSupplier, kmsOperations } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring, type MultiRegionEvent } from '@envelope/keyring-multi-region';
import { startKmsLocal } from '@envelope/kms-local';
import { intFlag, type CliIo } from '../io.js';

export const DEMO_HELP = `Usage: envelope demo [--size BYTES] [--json]

Starts kms-local in-process with two regions (us-east-1 primary, eu-west-1 secondary), creates
a multi-region KMS key and its replica, encrypts a sample under the multi-region keyring,
blackholes the primary region (it accepts connections and never answers), and decrypts
through the secondary — printing what happened and how long each step took.

Options:
      --size BYTES  size of the sample (default 1048576; at most 1073741824)
      --json        print the report as JSON
  -h, --help        show this help

Examples:
  npx envelope demo
  npx envelope demo --size 10485760
`;

/** demo's options. */
export const DEMO_OPTIONS = {
  size: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: DEMO_OPTIONS,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return 0;
  }
  const size = intFlag(values.size, 'size', 0, 1024 * 1024 * 1024) ?? 1024 * 1024;
  const out = (s: string): void => {
    if (!values.json) io.stdout.write(`${s}\n`);
  };
  const ms = (t0: number): string => `${(performance.now() - t0).toFixed(1)} ms`;
  const regions = ['us-east-1', 'eu-west-1'];
  const report: Record<string, unknown> = {};

  let t0 = performance.now();
  const kms = await startKmsLocal({ regions, port: 0 });
  try {
    out(`1. kms-local started at ${kms.url} with regions ${regions.join(', ')} (${ms(t0)})`);

    t0 = performance.now();
    const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true, Description: 'envelope demo' }))).KeyMetadata!.Arn!;
    const replica = (await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'eu-west-1' }))).ReplicaKeyMetadata!.Arn!;
    admin.destroy();
    out(`2. multi-region key created and replicated (${ms(t0)})\n     primary  ${primary}\n     replica  ${replica}`);

    const events: MultiRegionEvent[] = [];
    const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 30_000 } });
    const clients = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 2000 });
    const keyring = new MultiRegionKeyring({
      keys: [{ keyId: primary }, { keyId: replica }],
      kms: kmsOperations(clients),
      health,
      deadlineMs: 5000,
      callTimeoutMs: 2000,
      onEvent: (e) => events.push(e),
    });

    const sample = randomBytes(size);
    t0 = performance.now();
    const { ciphertext, messageInfo } = await encrypt(sample, { keyring, encryptionContext: { demo: 'multi-region' } });
    const edks = messageInfo.encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString());
    out(`3. encrypted a ${size}-byte sample (suite ${messageInfo.suiteName}) in ${ms(t0)}`);
    out(`     the data key is wrapped under ${edks.join(', ')}\n     (a multi-region key: that one wrapped key opens in either region)`);

    t0 = performance.now();
    await decrypt(ciphertext, { keyring });
    const healthy = performance.now() - t0;
    out(`4. healthy decrypt: ${healthy.toFixed(1)} ms via ${lastDecrypt(events)?.region}`);

    kms.setFault('us-east-1', { mode: 'blackhole' });
    out(`5. us-east-1 blackholed: it accepts connections and never answers`);
    const timings: { ms: number; region: string | undefined; failover: boolean | undefined }[] = [];
    for (let i = 0; i < 6; i++) {
      t0 = performance.now();
      const { plaintext } = await decrypt(ciphertext, { keyring });
      const took = performance.now() - t0;
      if (!Buffer.from(plaintext).equals(sample)) throw new Error('demo: decrypted bytes differ from the sample');
      const d = lastDecrypt(events);
      timings.push({ ms: took, region: d?.region, failover: d?.failover });
      const state = health.breakerState('us-east-1');
      out(
        `     decrypt ${i + 1}: ${took.toFixed(1)} ms via ${d?.region}${d?.failover ? ' (hedged past the silent primary)' : ''}; us-east-1 breaker ${state}`,
      );
    }
    out(`6. every decrypt succeeded; once the breaker opened, the primary was skipped entirely`);
    const snap = health
      .snapshot()
      .map((h) => `${h.region}: breaker ${h.breaker}, latency ~${h.latencyMs?.toFixed(1) ?? '-'} ms, ${h.failures} failures`);
    out(`     health: ${snap.join('; ')}`);
    Object.assign(report, {
      kms: kms.url,
      primary,
      replica,
      size,
      healthyMs: healthy,
      blackholedDecrypts: timings,
      health: health.snapshot(),
    });
    if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    await kms.close();
  }
}

function lastDecrypt(events: MultiRegionEvent[]): Extract<MultiRegionEvent, { type: 'decrypt' }> | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'decrypt') return e;
  }
  return undefined;
}
