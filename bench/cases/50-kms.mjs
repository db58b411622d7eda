// KMS path: 1 KiB messages per second through a KMS keyring against kms-local, ours
// (@envelope/keyring-kms KmsKeyring) vs the SDK's (KmsKeyringNode), both over the real
// @aws-sdk/client-kms and HTTP, without and with caching (ours: @envelope/caching; the SDK's
// NodeCachingMaterialsManager, same limits), sequential and with 16 messages in flight.
// kms-local runs in a child process (as `envelope kms-local` would), so its CPU is not charged
// to the client's event loop; both clients share the same server, alternating in batches.
// Each round trip is an encrypt (GenerateDataKey) and a decrypt (Decrypt) of the message just
// made: two KMS calls per message without a cache.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import { KmsKeyringNode, NodeCachingMaterialsManager, getClient, getLocalCryptographicMaterialsCache } from '@aws-crypto/client-node';
import { encrypt, decrypt } from '@envelope/core';
import { KmsKeyring, kmsClientSupplier } from '@envelope/keyring-kms';
import { CachingMaterialsManager } from '@envelope/caching';
import { sdk, randomBytes, same, timed, CONTEXT, missing } from '../lib.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'kms';
export const title = 'KMS path (1 KiB through a KMS keyring on kms-local, round trips per second)';

const SUITE = 0x0478;
const BATCH = 16;

/** kms-local in a child process (the load benchmark's server mode); resolves with its URL and credentials. */
async function startServer() {
  const script = fileURLToPath(new URL('../kms-local-load.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('kms-local child exited before it was ready');
  const ready = JSON.parse(first.value);
  return {
    url: ready.url,
    credentials: ready.credentials,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.stdin.end();
      }),
  };
}

function implementations(server, keyArn) {
  const credentials = { accessKeyId: server.credentials.accessKeyId, secretAccessKey: server.credentials.secretAccessKey };
  const oursKeyring = new KmsKeyring({ generatorKeyId: keyArn, clientSupplier: kmsClientSupplier({ endpoint: server.url, credentials }) });
  const sdkKeyring = new KmsKeyringNode({
    generatorKeyId: keyArn,
    clientProvider: getClient(KMS, { endpoint: server.url, credentials: { ...credentials } }),
  });
  const limits = { maxAgeMs: 60_000, maxMessages: 1_000_000 };
  const oursCmm = new CachingMaterialsManager({
    underlying: oursKeyring,
    maxAgeMs: limits.maxAgeMs,
    maxMessagesEncrypted: limits.maxMessages,
  });
  const sdkCmm = new NodeCachingMaterialsManager({
    backingMaterials: sdkKeyring,
    cache: getLocalCryptographicMaterialsCache(1000),
    maxAge: limits.maxAgeMs,
    maxMessagesEncrypted: limits.maxMessages,
  });
  const oursWith = (opts) => ({
    encrypt: async (pt) => (await encrypt(pt, { ...opts, suite: SUITE, encryptionContext: CONTEXT })).ciphertext,
    decrypt: async (ct) => (await decrypt(ct, opts)).plaintext,
  });
  const sdkWith = (cmm) => ({
    encrypt: async (pt) => (await sdk.encrypt(cmm, pt, { suiteId: SUITE, plaintextLength: pt.length, encryptionContext: CONTEXT })).result,
    decrypt: async (ct) => (await sdk.decrypt(cmm, ct)).plaintext,
  });
  return {
    plain: { ours: oursWith({ keyring: oursKeyring }), sdk: sdkWith(sdkKeyring) },
    cached: { ours: oursWith({ materialsManager: oursCmm }), sdk: sdkWith(sdkCmm) },
  };
}

/** Round trips per second: batches of BATCH messages, `inFlight` at a time, alternating ours/SDK. */
async function measure({ use, inFlight, seconds }) {
  const pt = randomBytes(1024);
  const acc = { ours: { n: 0, ms: 0, cpu: 0 }, sdk: { n: 0, ms: 0, cpu: 0 } };
  const warm = Date.now() + 500;
  const end = warm + seconds * 1000;
  let checked = false;
  const one = async (impl) => {
    const back = await impl.decrypt(await impl.encrypt(pt));
    if (!checked && !same(back, pt)) throw new Error('round trip differs');
  };
  while (Date.now() < end) {
    for (const name of ['ours', 'sdk']) {
      const t = await timed(async () => {
        for (let done = 0; done < BATCH; done += inFlight)
          await Promise.all(Array.from({ length: Math.min(inFlight, BATCH - done) }, () => one(use[name])));
      });
      if (Date.now() > warm) {
        acc[name].n += BATCH;
        acc[name].ms += t.wall;
        acc[name].cpu += t.cpu;
      }
    }
    checked = true;
  }
  const rate = (a) => ({ roundTrip: a.n / (a.ms / 1000), cpuMsPerRoundTrip: a.cpu / a.n, n: a.n });
  const o = rate(acc.ours);
  const s = rate(acc.sdk);
  return { ours: o, sdk: s, vsSdk: o.roundTrip / s.roundTrip };
}

export async function run({ quick, log }) {
  const server = await startServer();
  try {
    const admin = new KMSClient({ region: 'us-east-1', endpoint: server.url, credentials: { ...server.credentials } });
    const keyArn = (await admin.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? missing('key ARN');
    admin.destroy();
    const impls = implementations(server, keyArn);
    const rows = [];
    for (const [cacheName, use] of [
      ['no cache', impls.plain],
      ['with cache', impls.cached],
    ]) {
      for (const inFlight of [1, 16]) {
        const name = `1 KiB, ${cacheName}, ${inFlight === 1 ? 'sequential' : `${inFlight} in flight`}`;
        const r = {
          case: name,
          cached: cacheName === 'with cache',
          inFlight,
          ...(await measure({ use, inFlight, seconds: quick ? 1.5 : 5 })),
        };
        rows.push(r);
        log(
          `${name.padEnd(36)} round trips/s: ours ${f0(r.ours.roundTrip)} | SDK ${f0(r.sdk.roundTrip)} | ours/SDK ${ratio(r.vsSdk)} ` +
            `(client CPU per round trip: ours ${r.ours.cpuMsPerRoundTrip.toFixed(2)} ms, SDK ${r.sdk.cpuMsPerRoundTrip.toFixed(2)} ms)`,
        );
      }
    }
    return { suite: SUITE, rows };
  } finally {
    await server.stop();
  }
}

export function markdown(result) {
  if (result.unavailable) return [`KMS path: ${result.unavailable}`];
  return [
    'Suite 0x0478, one key in one region on kms-local (child process, loopback HTTP, SigV4-checked); each round trip is encrypt + decrypt of a fresh 1 KiB message (GenerateDataKey + Decrypt without a cache).',
    '',
    '| case | ours round trips/s | SDK round trips/s | ours/SDK | client CPU ms per round trip (ours / SDK) |',
    '|---|---|---|---|---|',
    ...result.rows.map(
      (x) =>
        `| ${x.case} | ${f0(x.ours.roundTrip)} | ${f0(x.sdk.roundTrip)} | ${ratio(x.vsSdk)} | ${x.ours.cpuMsPerRoundTrip.toFixed(2)} / ${x.sdk.cpuMsPerRoundTrip.toFixed(2)} |`,
    ),
  ];
}
