// Hierarchical keyring failover (issue 19): a key store whose KMS key is a multi-region key
// (us-east-1 primary, us-west-2 replica) and whose table is a global table (moto_server does not
// replicate, so both regions' tables are seeded, as replication would). Each round is a cold
// keyring (nothing cached) encrypting and decrypting one message, so every round reads the
// branch key from the store: first with both regions healthy, then with us-east-1 blackholed in
// kms-local (requests accepted, never answered). Reported: per-round latency, and which region's
// table (DynamoDB GetItem) and KMS key (Decrypt) served.
//   node bench/hierarchical-failover.mjs [--rounds 50]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { decrypt, encrypt } from '@envelope/core';
import { kmsClientSupplier } from '@envelope/keyring-kms';
import { HealthRegistry } from '@envelope/keyring-multi-region';
import { startKmsLocal } from '@envelope/kms-local';
import { BranchKeyStore, HierarchicalKeyring, dynamoDbClientSupplier } from '@envelope/keyring-hierarchical';
import { startMotoServer } from '../scripts/moto-server.mjs';
import { f0 } from './format.mjs';
import { missing } from './lib.mjs';

const HOME = 'us-east-1';
const REPLICA = 'us-west-2';
const CREDS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];

export async function hierarchicalFailoverBench({ rounds = 50, log = (/** @type {string} */ _line) => {} } = {}) {
  const [moto, kms] = await Promise.all([startMotoServer(), startKmsLocal({ regions: [HOME, REPLICA], port: 0 })]);
  try {
    const admin = new KMSClient({ region: HOME, endpoint: kms.url, credentials: { ...kms.credentials } });
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata?.Arn ?? missing('key ARN');
    const replica =
      (await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: REPLICA }))).ReplicaKeyMetadata?.Arn ??
      missing('replica key ARN');
    admin.destroy();
    const counts = {};
    const inner = dynamoDbClientSupplier({ endpoint: moto.url, credentials: CREDS, requestTimeoutMs: 5000 });
    const counted = (region) => {
      const c = inner(region);
      return { ...c, getItem: (i, s) => ((counts[region] ??= { GetItem: 0 }).GetItem++, c.getItem(i, s)) };
    };
    const kmsSupplier = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 2000 });
    const table = 'dr-branch-keys';
    for (const arn of [primary, replica])
      await new BranchKeyStore({
        tableName: table,
        logicalKeyStoreName: table,
        kmsKeyArn: arn,
        kms: kmsSupplier,
        dynamoDb: inner,
      }).createStore();
    const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 60_000 } });
    const store = new BranchKeyStore({
      tableName: table,
      logicalKeyStoreName: table,
      kmsKeyArn: primary,
      replicaRegions: [REPLICA],
      kms: kmsSupplier,
      dynamoDb: counted,
      health,
      hedgeAfterMs: 100,
      callTimeoutMs: 2000,
      deadlineMs: 5000,
    });
    const { branchKeyId } = await store.createKey({ branchKeyId: 'tenant-dr', encryptionContext: { tenant: 'dr' } });
    // Seed the replica region's table with the branch key's items (what global-table replication does).
    const ddb = (r) => new DynamoDBClient({ region: r, endpoint: moto.url, credentials: CREDS });
    const { Items } = await ddb(HOME).send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :id',
        ExpressionAttributeNames: { '#pk': 'branch-key-id' },
        ExpressionAttributeValues: { ':id': { S: branchKeyId } },
      }),
    );
    for (const Item of Items ?? []) await ddb(REPLICA).send(new PutItemCommand({ TableName: table, Item }));

    const pt = Buffer.from('failover');
    const phase = async (name) => {
      for (const k of Object.keys(counts)) delete counts[k];
      kms.resetStats();
      const ms = [];
      let failures = 0;
      for (let i = 0; i < rounds; i++) {
        const keyring = new HierarchicalKeyring({ keyStore: store, branchKeyId, cacheTtlSeconds: 600 });
        const t0 = performance.now();
        try {
          const { ciphertext } = await encrypt(pt, { keyring, suite: 0x0478 });
          await decrypt(ciphertext, { keyring });
        } catch {
          failures++;
        }
        ms.push(performance.now() - t0);
      }
      const stats = kms.stats();
      const row = {
        phase: name,
        rounds,
        failures,
        p50: pct(ms, 50),
        p99: pct(ms, 99),
        max: Math.max(...ms),
        getItem: { [HOME]: counts[HOME]?.GetItem ?? 0, [REPLICA]: counts[REPLICA]?.GetItem ?? 0 },
        kmsDecrypt: { [HOME]: stats[HOME]?.Decrypt ?? 0, [REPLICA]: stats[REPLICA]?.Decrypt ?? 0 },
        breaker: { [HOME]: health.breakerState(HOME), [REPLICA]: health.breakerState(REPLICA) },
      };
      log(
        `${name.padEnd(28)} ${rounds} cold round trips, ${failures} failed; p50 ${f0(row.p50)} ms, p99 ${f0(row.p99)} ms, max ${f0(row.max)} ms; ` +
          `GetItem ${HOME} ${row.getItem[HOME]} / ${REPLICA} ${row.getItem[REPLICA]}; KMS Decrypt ${HOME} ${row.kmsDecrypt[HOME]} / ${REPLICA} ${row.kmsDecrypt[REPLICA]}; ` +
          `breaker ${HOME} ${row.breaker[HOME]}`,
      );
      return row;
    };
    const healthy = await phase('both regions healthy');
    kms.setFault(HOME, { mode: 'blackhole' });
    const blackholed = await phase(`${HOME} blackholed in kms-local`);
    return { rounds, hedgeAfterMs: 100, breaker: { failureThreshold: 3 }, rows: [healthy, blackholed] };
  } finally {
    await Promise.all([moto.stop(), kms.close()]);
  }
}

export function markdownRows(r) {
  return [
    `Each round: a cold hierarchical keyring (nothing cached) encrypts and decrypts one message, so the branch key is read from the store (GetItem + KMS Decrypt); hedge after ${r.hedgeAfterMs} ms, breaker opens after ${r.breaker.failureThreshold} failures.`,
    '',
    `| phase | rounds | failed | p50 ms | p99 ms | max ms | GetItem ${HOME} / ${REPLICA} | KMS Decrypt ${HOME} / ${REPLICA} | ${HOME} breaker |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.phase} | ${x.rounds} | ${x.failures} | ${f0(x.p50)} | ${f0(x.p99)} | ${f0(x.max)} | ${x.getItem[HOME]} / ${x.getItem[REPLICA]} | ${x.kmsDecrypt[HOME]} / ${x.kmsDecrypt[REPLICA]} | ${x.breaker[HOME]} |`,
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
  const r = await hierarchicalFailoverBench({ rounds: Number(values.rounds ?? 50), log: (s) => process.stdout.write(`${s}\n`) });
  process.stdout.write(`\n${markdownRows(r).join('\n')}\n`);
}
