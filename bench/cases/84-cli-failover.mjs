// Start-up in the failover path (issue 16, target 6): `envelope decrypt` of a small message with
// a multi-region keyring (an MRK in us-east-1 and its replica in us-west-2) on kms-local, as whole
// processes: every process starts with an empty health registry, so each one meets the
// blackholed primary afresh. Against the same decrypt with both regions healthy and `node -e 0`,
// interleaved (the fault is set through kms-local's admin API before each run).
/* global fetch */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { ENVELOPE, benchScript, childEnv, interleave, rawKeyringFixture, runOnce, wallRatio } from '../proc.mjs';
import { randomBytes, missing } from '../lib.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'cli-failover';
export const title = 'Start-up in the failover path (processes, kms-local)';

const node = process.execPath;

/** bench/kms-server.mjs in a child process: { url, credentials, fault(region, mode), stop() }. */
export async function startKmsServer(regions = ['us-east-1', 'us-west-2']) {
  const child = spawn(node, [benchScript('kms-server.mjs'), ...regions], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  if (first.done) throw new Error('kms-local child exited before it was ready');
  const ready = JSON.parse(first.value);
  return {
    ...ready,
    async fault(region, mode) {
      const res = await fetch(`${ready.url}/_admin/faults/${region}`, {
        method: 'PUT',
        body: JSON.stringify({ mode }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`kms-local admin: ${res.status} ${await res.text()}`);
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.stdin.end();
      }),
  };
}

export async function run({ quick, log }) {
  const server = await startKmsServer();
  const { dir } = rawKeyringFixture('envelope-bench-failover-');
  const f = (name) => path.join(dir, name);
  try {
    const credentials = { accessKeyId: server.credentials.accessKeyId, secretAccessKey: server.credentials.secretAccessKey };
    const admin = new KMSClient({ region: 'us-east-1', endpoint: server.url, credentials });
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata?.Arn ?? missing('key ARN');
    const replica =
      (await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'us-west-2' }))).ReplicaKeyMetadata?.Arn ??
      missing('replica key ARN');
    admin.destroy();
    writeFileSync(
      f('mrk.json'),
      JSON.stringify({ type: 'aws-kms-multi-region', keys: [{ keyId: primary }, { keyId: replica }], endpoint: server.url }),
      {
        mode: 0o600,
      },
    );
    const env = childEnv({
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
    });
    const plain = randomBytes(100);
    writeFileSync(f('small'), plain);
    const e = await runOnce(node, [ENVELOPE, 'encrypt', '--keyring', f('mrk.json'), '--in', f('small'), '--out', f('small.enc')], { env });
    if (e.code !== 0) throw new Error(`encrypt with the multi-region keyring failed: ${e.stderr}`);
    const decrypt = {
      cmd: node,
      args: [ENVELOPE, 'decrypt', '--keyring', f('mrk.json'), '--in', f('small.enc'), '--out', f('small.dec')],
      env,
    };
    const check = () => {
      if (!readFileSync(f('small.dec')).equals(plain)) throw new Error('decrypt output differs');
    };
    const cmds = [
      { name: 'node -e 0', cmd: node, args: ['-e', '0'] },
      { name: 'decrypt, both regions healthy', ...decrypt, before: () => server.fault('us-east-1', 'none'), check },
      { name: 'decrypt, primary blackholed', ...decrypt, before: () => server.fault('us-east-1', 'blackhole'), check },
    ];
    const r = await interleave(cmds, { runs: quick ? 2 : 9, warmup: 1 });
    const base = r['node -e 0'];
    const rows = cmds.map((c) => ({ name: c.name, ...r[c.name], vsNode: wallRatio(r[c.name], base) }));
    for (const x of rows)
      log(
        `${x.name.padEnd(32)} ${x.error ? `failed: ${x.error}` : `${f0(x.wall)} ms (min ${f0(x.min)}, max ${f0(x.max)}), ${ratio(x.vsNode)} node -e 0`}`,
      );
    return { rows };
  } finally {
    await server.fault('us-east-1', 'none').catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  return [
    'A 100-byte message under an `aws-kms-multi-region` keyring (MRK in us-east-1, replica in us-west-2, default hedging and deadlines) on kms-local in its own process; each `envelope decrypt` is a new process, so each one meets the blackholed primary with an empty health registry. Medians, interleaved.',
    '',
    '| command | median | fastest | slowest | × `node -e 0` |',
    '|---|---|---|---|---|',
    ...r.rows.map((x) =>
      x.error
        ? `| ${x.name} | failed: ${x.error} | | | |`
        : `| ${x.name} | ${f0(x.wall)} ms | ${f0(x.min)} ms | ${f0(x.max)} ms | ${ratio(x.vsNode)} |`,
    ),
  ];
}
