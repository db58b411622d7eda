/* global fetch */
// Hierarchical keyring bench (issue 19): N messages over T tenants (one branch key each), each a
// round trip (encrypt, then decrypt of the message just made, 1 KiB, suite 0x0478), 16 in flight,
// every implementation from a cold start. Counted: KMS calls (kms-local's own stats), DynamoDB
// calls (a counter on each implementation's DynamoDB client) and round trips per second.
//   - ours: @envelope/keyring-hierarchical, the branch key id from the context (`tenant`);
//   - the SDK's KmsHierarchicalKeyRingNode + BranchKeyStoreNode, same table, same supplier rule;
//   - our KmsKeyring (one KMS key) without a cache: 2 KMS calls per message;
//   - the same KmsKeyring behind our CachingMaterialsManager (entries per tenant context).
// kms-local runs in a child process (bench/kms-local-load.mjs --serve) and DynamoDB is
// moto_server, both on loopback: absolute rates say more about the emulators than about AWS;
// the call counts are what a real deployment pays for.
//   node bench/hierarchical.mjs [--messages 10000] [--tenants 100]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { BranchKeyStoreNode, KmsHierarchicalKeyRingNode } from '@aws-crypto/client-node';
import { decrypt, encrypt } from '@envelope/core';
import { CachingMaterialsManager } from '@envelope/caching';
import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { HealthRegistry } from '@envelope/keyring-multi-region';
import { BranchKeyStore, HierarchicalKeyring, branchKeyIdFromContext, dynamoDbClientSupplier } from '@envelope/keyring-hierarchical';
import { startMotoServer } from '../scripts/moto-server.mjs';
import { sdk, randomBytes, same, missing } from './lib.mjs';
import { f0 } from './format.mjs';

const SUITE = 0x0478;
const MOTO_CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/** kms-local in a child process; resolves with its URL and credentials. */
async function startKms() {
  const script = fileURLToPath(new URL('./kms-local-load.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('kms-local child exited before it was ready');
  const ready = JSON.parse(first.value);
  const admin = async (path, method = 'GET') => {
    const r = await fetch(`${ready.url}/_admin/${path}`, { method });
    return r.status === 204 ? undefined : r.json().catch(() => undefined);
  };
  return {
    url: ready.url,
    credentials: { accessKeyId: ready.credentials.accessKeyId, secretAccessKey: ready.credentials.secretAccessKey },
    /** KMS calls served since the last reset, summed over operations. */
    calls: async () => Object.values((await admin('stats')) ?? {}).reduce((n, ops) => n + Object.values(ops).reduce((a, b) => a + b, 0), 0),
    resetStats: () => admin('reset-stats', 'POST'),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.stdin.end();
      }),
  };
}

/** Our DynamoDB supplier with a call counter. */
function countingSupplier(inner, counter) {
  const wrap = (c) => ({
    getItem: (i, s) => (counter.n++, c.getItem(i, s)),
    transactWriteItems: (i, s) => (counter.n++, c.transactWriteItems(i, s)),
    describeTable: (i, s) => (counter.n++, c.describeTable(i, s)),
    createTable: (i, s) => (counter.n++, c.createTable(i, s)),
  });
  const cache = new Map();
  return (region) => {
    if (!cache.has(region)) cache.set(region, wrap(inner(region)));
    return cache.get(region);
  };
}

/** An SDK DynamoDBClient whose every request is counted (a middleware at the start of the stack). */
function countingSdkDynamoDb(url, counter) {
  const c = new DynamoDBClient({ region: 'us-east-1', endpoint: url, credentials: MOTO_CREDENTIALS });
  c.middlewareStack.add((next) => (args) => (counter.n++, next(args)), { step: 'initialize', name: 'benchCounter' });
  return c;
}

/** `messages` round trips, `inFlight` at a time, tenant = i mod `tenants`. */
async function roundTrips(impl, { messages, tenants, inFlight }) {
  const pt = randomBytes(1024);
  let next = 0;
  let checked = false;
  const worker = async () => {
    while (next < messages) {
      const i = next++;
      const context = { tenant: `tenant-${i % tenants}` };
      const back = await impl.decrypt(await impl.encrypt(pt, context), context);
      if (!checked) {
        if (!same(back, pt)) throw new Error(`${impl.name}: round trip differs`);
        checked = true;
      }
    }
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const cpu = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export async function hierarchicalBench({
  messages = 10_000,
  tenants = 100,
  inFlight = 16,
  log = (/** @type {string} */ _line) => {},
} = {}) {
  const [moto, kms] = await Promise.all([startMotoServer(), startKms()]);
  try {
    const adminKms = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: { ...kms.credentials } });
    const keyArn = (await adminKms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? missing('key ARN');
    adminKms.destroy();
    const kmsSupplier = kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials });
    const ddbCalls = { n: 0 };
    const ddb = countingSupplier(
      dynamoDbClientSupplier({ endpoint: moto.url, credentials: MOTO_CREDENTIALS, requestTimeoutMs: 5000 }),
      ddbCalls,
    );
    const storeOptions = { tableName: 'bench-branch-keys', logicalKeyStoreName: 'bench-branch-keys', kmsKeyArn: keyArn, kms: kmsSupplier };
    const store = new BranchKeyStore({
      ...storeOptions,
      dynamoDb: ddb,
      health: new HealthRegistry(),
      deadlineMs: 30_000,
      callTimeoutMs: 10_000,
    });
    await store.createStore();
    log(`creating ${tenants} branch keys…`);
    for (let t = 0; t < tenants; t++) await store.createKey({ branchKeyId: `tenant-${t}`, encryptionContext: { tenant: `tenant-${t}` } });

    const sdkDdbCalls = { n: 0 };
    const sdkStore = new BranchKeyStoreNode({
      logicalKeyStoreName: storeOptions.logicalKeyStoreName,
      storage: { ddbTableName: storeOptions.tableName, ddbClient: countingSdkDynamoDb(moto.url, sdkDdbCalls) },
      kmsConfiguration: { identifier: keyArn },
      keyManagement: { kmsClient: new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: { ...kms.credentials } }) },
    });

    const ttl = 600;
    const impls = [
      () => {
        const keyring = new HierarchicalKeyring({
          keyStore: store,
          branchKeyIdSupplier: branchKeyIdFromContext('tenant'),
          cacheTtlSeconds: ttl,
        });
        return {
          name: 'ours: hierarchical keyring',
          ddb: ddbCalls,
          encrypt: async (pt, encryptionContext) => (await encrypt(pt, { keyring, suite: SUITE, encryptionContext })).ciphertext,
          decrypt: async (ct, encryptionContext) => (await decrypt(ct, { keyring, encryptionContext })).plaintext,
        };
      },
      () => {
        const keyring = new KmsHierarchicalKeyRingNode({
          branchKeyIdSupplier: { getBranchKeyId: (ec) => ec.tenant ?? missing('tenant') },
          keyStore: sdkStore,
          cacheLimitTtl: ttl,
          maxCacheSize: 1000,
        });
        return {
          name: 'SDK: KmsHierarchicalKeyRingNode',
          ddb: sdkDdbCalls,
          encrypt: async (pt, encryptionContext) => (await sdk.encrypt(keyring, pt, { suiteId: SUITE, encryptionContext })).result,
          decrypt: async (ct) => (await sdk.decrypt(keyring, ct)).plaintext,
        };
      },
      () => {
        const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientSupplier: kmsSupplier });
        return {
          name: 'ours: KMS keyring, no cache',
          ddb: { n: 0 },
          encrypt: async (pt, encryptionContext) => (await encrypt(pt, { keyring, suite: SUITE, encryptionContext })).ciphertext,
          decrypt: async (ct, encryptionContext) => (await decrypt(ct, { keyring, encryptionContext })).plaintext,
        };
      },
      () => {
        const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientSupplier: kmsSupplier });
        const materialsManager = new CachingMaterialsManager({
          underlying: keyring,
          maxAgeMs: ttl * 1000,
          maxMessagesEncrypted: 1_000_000,
        });
        return {
          name: 'ours: KMS keyring + caching CMM',
          ddb: { n: 0 },
          encrypt: async (pt, encryptionContext) => (await encrypt(pt, { materialsManager, suite: SUITE, encryptionContext })).ciphertext,
          decrypt: async (ct, encryptionContext) => (await decrypt(ct, { materialsManager, encryptionContext })).plaintext,
        };
      },
    ];
    const rows = [];
    for (const make of impls) {
      const impl = make();
      await kms.resetStats();
      const ddbBefore = impl.ddb.n;
      const { ms, cpuMs } = await roundTrips(impl, { messages, tenants, inFlight });
      const row = {
        impl: impl.name,
        messages,
        tenants,
        kmsCalls: await kms.calls(),
        dynamoDbCalls: impl.ddb.n - ddbBefore,
        roundTripsPerSecond: messages / (ms / 1000),
        /** This process only (kms-local and moto_server are others): robust to other load on the machine. */
        clientCpuMsPerRoundTrip: cpuMs / messages,
      };
      rows.push(row);
      log(
        `${row.impl.padEnd(34)} KMS calls ${String(row.kmsCalls).padStart(6)} | DynamoDB calls ${String(row.dynamoDbCalls).padStart(5)} | ${f0(row.roundTripsPerSecond)} round trips/s | client CPU ${row.clientCpuMsPerRoundTrip.toFixed(2)} ms per round trip`,
      );
    }

    // Single-flight on a cold cache: 1,000 concurrent encrypts for one branch key.
    const cold = new HierarchicalKeyring({ keyStore: store, branchKeyId: 'tenant-0', cacheTtlSeconds: ttl });
    await kms.resetStats();
    const d0 = ddbCalls.n;
    await Promise.all(Array.from({ length: 1000 }, () => encrypt(randomBytes(64), { keyring: cold, suite: SUITE })));
    const singleFlight = { encrypts: 1000, dynamoDbReads: ddbCalls.n - d0, kmsCalls: await kms.calls() };
    log(
      `single-flight: ${singleFlight.encrypts} concurrent encrypts on a cold cache → ${singleFlight.dynamoDbReads} DynamoDB read(s), ${singleFlight.kmsCalls} KMS call(s)`,
    );
    return { suite: SUITE, inFlight, rows, singleFlight };
  } finally {
    await Promise.all([moto.stop(), kms.stop()]);
  }
}

export function markdownRows(result) {
  const base = result.rows.find((r) => r.impl.startsWith('ours: hierarchical'));
  return [
    `${result.rows[0]?.messages} round trips (encrypt + decrypt, 1 KiB, suite 0x0478, ${result.inFlight} in flight) over ${result.rows[0]?.tenants} tenants, one branch key each; kms-local (child process) and moto_server on loopback; every implementation from a cold start.`,
    '',
    '| implementation | KMS calls | DynamoDB calls | round trips/s | vs ours (hierarchical) | client CPU ms per round trip |',
    '|---|---|---|---|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${r.impl} | ${r.kmsCalls} | ${r.dynamoDbCalls} | ${f0(r.roundTripsPerSecond)} | ${(r.roundTripsPerSecond / base.roundTripsPerSecond).toFixed(2)}× | ${r.clientCpuMsPerRoundTrip.toFixed(2)} |`,
    ),
    '',
    `Single-flight: ${result.singleFlight.encrypts} concurrent encrypts on a cold cache made ${result.singleFlight.dynamoDbReads} DynamoDB read and ${result.singleFlight.kmsCalls} KMS call.`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({ options: { messages: { type: 'string' }, tenants: { type: 'string' }, 'in-flight': { type: 'string' } } });
  const r = await hierarchicalBench({
    messages: Number(values.messages ?? 10_000),
    tenants: Number(values.tenants ?? 100),
    inFlight: Number(values['in-flight'] ?? 16),
    log: (s) => process.stdout.write(`${s}\n`),
  });
  process.stdout.write(`\n${markdownRows(r).join('\n')}\n`);
}
