#!/usr/bin/env node
/**
 * Load on kms-local: GenerateDataKey + Decrypt pairs from one client process over keep-alive
 * connections, against kms-local running in a second process (as `envelope kms-local` would).
 *
 *   npx tsc -b && node bench/kms-local-load.mjs [--seconds 10] [--concurrency 32] [--client signed|sdk] [--json]
 *
 * --client signed (default) signs SigV4 with kms-local's signRequest (@smithy/signature-v4, the
 * signer kms-local verifies with) and speaks HTTP/1.1 over one keep-alive socket per worker, so
 * the figure measures kms-local rather than the SDK's client stack;
 * --client sdk uses @aws-sdk/client-kms, whose own per-request CPU is then the limit.
 * Reports pairs per second, errors, and the RSS of the server and the client at start and end.
 * SERVER_PROF=dir writes a CPU profile of the server into dir.
 */
import { parseArgs } from 'node:util';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    client: { type: 'string', default: 'signed' },
    json: { type: 'boolean' },
    serve: { type: 'boolean' },
  },
});

const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

// ---------------------------------------------------------------- the server process
if (values.serve) {
  // KMS_LOCAL_DIST: another build to compare against (an A/B of two versions).
  const { startKmsLocal } = await import(process.env.KMS_LOCAL_DIST ?? '../packages/kms-local/dist/index.js');
  const kms = await startKmsLocal({ regions: ['us-east-1'], port: 0 });
  const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ url: kms.url, credentials: kms.credentials, rssMiB: rssMiB() });
  // One line in, one line out: "probe" asks for the RSS and CPU time used so far; end of input stops.
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'probe') {
      const cpu = process.cpuUsage();
      say({ rssMiB: rssMiB(), cpuMs: (cpu.user + cpu.system) / 1000 });
    }
  }
  await kms.close();
  process.exit(0);
}

// ---------------------------------------------------------------- the client process
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
if (!(seconds > 0 && seconds <= 600) || !(concurrency >= 1 && concurrency <= 1024))
  throw new Error('--seconds 1..600, --concurrency 1..1024');
const prof = process.env.SERVER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SERVER_PROF}`] : [];
const server = spawn(process.execPath, [...prof, fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
const nextLine = async () => JSON.parse((await lines.next()).value);
const ready = await nextLine();
const probe = async () => {
  server.stdin.write('probe\n');
  return nextLine();
};
const url = new URL(ready.url);
const { accessKeyId, secretAccessKey } = ready.credentials;
// The client always signs with this checkout's signer (KMS_LOCAL_DIST only swaps the server).
const { signRequest } = await import('../packages/kms-local/dist/index.js');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

/**
 * One keep-alive HTTP/1.1 connection, one request at a time: a deliberately small client (Node's
 * http.request costs as much CPU per call as kms-local does to answer it, on the same two cores).
 */
class Connection {
  #socket;
  #buf = Buffer.alloc(0);
  #waiting;
  constructor() {
    this.#socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    this.#socket.on('data', (d) => this.#onData(d));
    this.#socket.on('error', (e) => this.#fail(e));
    this.#socket.on('close', () => this.#fail(new Error('connection closed')));
  }
  request(head, payload) {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject, timer: setTimeout(() => this.#socket.destroy(new Error('timeout')), 5000) };
      this.#socket.write(head);
      this.#socket.write(payload);
    });
  }
  close() {
    this.#socket.destroy();
  }
  #fail(e) {
    const w = this.#waiting;
    this.#waiting = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }
  #onData(d) {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const length = m ? Number(m[1]) : 0;
    if (this.#buf.length < end + 4 + length) return;
    const body = this.#buf.toString('utf8', end + 4, end + 4 + length);
    this.#buf = this.#buf.subarray(end + 4 + length);
    const w = this.#waiting;
    this.#waiting = undefined;
    clearTimeout(w.timer);
    w.resolve({ status: Number(head.slice(9, 12)), body });
  }
}

async function signedCall(conn, op, body) {
  const payload = JSON.stringify(body);
  const headers = await signRequest(
    { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}` },
    payload,
    { accessKeyId, secretAccessKey },
    { region: 'us-east-1' },
  );
  let head = 'POST / HTTP/1.1\r\n';
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${Buffer.byteLength(payload)}\r\nconnection: keep-alive\r\n\r\n`;
  const res = await conn.request(head, payload);
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return JSON.parse(res.body);
}

const context = { bench: 'kms-local-load' };
let pair;
let setupKey;
if (values.client === 'sdk') {
  const { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, KMSClient } = await import('@aws-sdk/client-kms');
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  const client = new KMSClient({
    region: 'us-east-1',
    endpoint: ready.url,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent, requestTimeout: 5000, throwOnRequestTimeout: true }),
  });
  setupKey = async () => (await client.send(new CreateKeyCommand({}))).KeyMetadata.Arn;
  pair = async (keyId) => {
    const g = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32, EncryptionContext: context }));
    const d = await client.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, KeyId: keyId, EncryptionContext: context }));
    if (Buffer.compare(Buffer.from(d.Plaintext), Buffer.from(g.Plaintext)) !== 0) throw new Error('mismatch');
  };
} else if (values.client === 'signed') {
  const setupConn = new Connection();
  setupKey = async () => {
    const arn = (await signedCall(setupConn, 'CreateKey', {})).KeyMetadata.Arn;
    setupConn.close();
    return arn;
  };
  pair = async (keyId, conn) => {
    const g = await signedCall(conn, 'GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32, EncryptionContext: context });
    const d = await signedCall(conn, 'Decrypt', { CiphertextBlob: g.CiphertextBlob, KeyId: keyId, EncryptionContext: context });
    if (d.Plaintext !== g.Plaintext) throw new Error('mismatch');
  };
} else {
  throw new Error('--client signed|sdk');
}

const keyId = await setupKey();
// One keep-alive connection per concurrent worker (the SDK client shares its agent instead).
const conns = values.client === 'signed' ? Array.from({ length: concurrency }, () => new Connection()) : [];
// A short warm-up, so the figure is the steady state rather than JIT start-up.
for (let i = 0; i < 200; i++) await pair(keyId, conns[0]);
const server0 = await probe();
const clientRss0 = rssMiB();
const clientCpu0 = process.cpuUsage();
let pairs = 0;
let errors = 0;
let firstError;
const end = performance.now() + seconds * 1000;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async (_, w) => {
    while (performance.now() < end) {
      try {
        await pair(keyId, conns[w]);
        pairs++;
      } catch (e) {
        errors++;
        firstError ??= e.message;
      }
    }
  }),
);
const secs = (performance.now() - t0) / 1000;
const server1 = await probe();
const clientCpu = process.cpuUsage(clientCpu0);
const report = {
  pairsPerSecond: Math.round(pairs / secs),
  pairs,
  errors,
  ...(firstError ? { firstError: firstError.slice(0, 200) } : {}),
  seconds: Math.round(secs * 10) / 10,
  concurrency,
  client: values.client,
  // CPU per pair does not depend on what else the machine is running: the server-bound ceiling
  // is what one core would do at that cost.
  serverCpuUsPerPair: Math.round(((server1.cpuMs - server0.cpuMs) * 1000) / Math.max(pairs, 1)),
  clientCpuUsPerPair: Math.round((clientCpu.user + clientCpu.system) / Math.max(pairs, 1)),
  serverRssMiB: { start: server0.rssMiB, end: server1.rssMiB },
  clientRssMiB: { start: clientRss0, end: rssMiB() },
};
server.stdin.end();
agent.destroy();
for (const c of conns) c.close();
await new Promise((r) => server.once('exit', r));
process.stdout.write(
  values.json
    ? `${JSON.stringify(report)}\n`
    : `kms-local load: ${report.pairsPerSecond} GenerateDataKey+Decrypt pairs/s (${pairs} pairs, ${errors} errors, ${report.seconds} s, ` +
        `concurrency ${concurrency}, ${values.client} client); server CPU ${report.serverCpuUsPerPair} µs/pair ` +
        `(≈${Math.round(1e6 / Math.max(report.serverCpuUsPerPair, 1))} pairs/s per server core), client CPU ${report.clientCpuUsPerPair} µs/pair; server RSS ${report.serverRssMiB.start} → ${report.serverRssMiB.end} MiB, ` +
        `client RSS ${report.clientRssMiB.start} → ${report.clientRssMiB.end} MiB${firstError ? `; first error: ${report.firstError}` : ''}\n`,
);
