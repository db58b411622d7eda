#!/usr/bin/env node
/**
 * Load on kms-local: GenerateDataKey + Decrypt pairs from one client process over keep-alive
 * connections, against kms-local running in a second process (as `envelope kms-local` would).
 *
 *   npx tsc -b && node bench/kms-local-load.mjs [--seconds 10] [--concurrency 32] [--client signed|sdk] [--json]
 *   node bench/kms-local-load.mjs --compare <other build>/packages/kms-local/dist/index.js
 *
 * --client signed (default) signs SigV4 with kms-local's signRequest (@smithy/signature-v4, the
 * signer kms-local verifies with) and speaks HTTP/1.1 over one keep-alive socket per worker, so
 * the figure measures kms-local rather than the SDK's client stack;
 * --client sdk uses @aws-sdk/client-kms, whose own per-request CPU is then the limit.
 * Reports pairs per second, errors, and the RSS of the server and the client at start and end.
 * --compare DIST runs a second server from another build (e.g. main's) at the same time, half the
 * workers on each, and reports both side by side with the ratio of their server CPU per pair:
 * what else the machine runs then weighs on both alike. KMS_LOCAL_DIST=DIST swaps the one server.
 * SERVER_PROF=dir writes a CPU profile of the server(s) into dir.
 */
import { parseArgs } from 'node:util';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { messageOf, missing } from './lib.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    client: { type: 'string', default: 'signed' },
    json: { type: 'boolean' },
    compare: { type: 'string' },
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
if (values.client !== 'signed' && values.client !== 'sdk') throw new Error('--client signed|sdk');
if (values.compare !== undefined && (values.client !== 'signed' || concurrency < 2))
  throw new Error('--compare needs --client signed and --concurrency 2 or more');
// The client always signs with this checkout's signer (KMS_LOCAL_DIST and --compare swap servers only).
const { signRequest } = await import('../packages/kms-local/dist/index.js');
const prof = process.env.SERVER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SERVER_PROF}`] : [];

/** A kms-local in a child process, from this checkout or from `dist`. */
async function startServer(dist) {
  const env = dist === undefined ? process.env : { ...process.env, KMS_LOCAL_DIST: dist };
  const proc = spawn(process.execPath, [...prof, fileURLToPath(import.meta.url), '--serve'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => JSON.parse((await lines.next()).value);
  const ready = await nextLine();
  return {
    url: new URL(ready.url),
    credentials: ready.credentials,
    probe: async () => {
      proc.stdin.write('probe\n');
      return nextLine();
    },
    stop: async () => {
      proc.stdin.end();
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

/**
 * One keep-alive HTTP/1.1 connection, one request at a time: a deliberately small client (Node's
 * http.request costs as much CPU per call as kms-local does to answer it, on the same two cores).
 */
class Connection {
  #socket;
  #buf = Buffer.alloc(0);
  #waiting;
  constructor(url) {
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

const context = { bench: 'kms-local-load' };

/** GenerateDataKey+Decrypt pairs against one server: signed by hand over small connections, or through the SDK. */
async function driver(server, workers) {
  if (values.client === 'sdk') {
    const { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, KMSClient } = await import('@aws-sdk/client-kms');
    const { NodeHttpHandler } = await import('@smithy/node-http-handler');
    const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
    const client = new KMSClient({
      region: 'us-east-1',
      endpoint: server.url.origin,
      credentials: server.credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: agent, requestTimeout: 5000, throwOnRequestTimeout: true }),
    });
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? missing('key ARN');
    return {
      pair: async () => {
        const g = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32, EncryptionContext: context }));
        const d = await client.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, KeyId: keyId, EncryptionContext: context }));
        if (Buffer.compare(Buffer.from(d.Plaintext ?? missing('Plaintext')), Buffer.from(g.Plaintext ?? missing('Plaintext'))) !== 0)
          throw new Error('mismatch');
      },
      close: () => agent.destroy(),
    };
  }
  const call = async (conn, op, body) => {
    const payload = JSON.stringify(body);
    const headers = await signRequest(
      { host: server.url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}` },
      payload,
      server.credentials,
      { region: 'us-east-1' },
    );
    let head = 'POST / HTTP/1.1\r\n';
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    head += `content-length: ${Buffer.byteLength(payload)}\r\nconnection: keep-alive\r\n\r\n`;
    const res = await conn.request(head, payload);
    if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
    return JSON.parse(res.body);
  };
  const setup = new Connection(server.url);
  const keyId = (await call(setup, 'CreateKey', {})).KeyMetadata?.Arn ?? missing('key ARN');
  setup.close();
  // One keep-alive connection per concurrent worker.
  const conns = Array.from({ length: workers }, () => new Connection(server.url));
  return {
    pair: async (w) => {
      const g = await call(conns[w], 'GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32, EncryptionContext: context });
      const d = await call(conns[w], 'Decrypt', { CiphertextBlob: g.CiphertextBlob, KeyId: keyId, EncryptionContext: context });
      if (d.Plaintext !== g.Plaintext) throw new Error('mismatch');
    },
    close: () => conns.forEach((c) => c.close()),
  };
}

const builds = values.compare === undefined ? [undefined] : [undefined, values.compare];
const servers = await Promise.all(builds.map((dist) => startServer(dist)));
const workersEach = Math.floor(concurrency / servers.length);
const drivers = await Promise.all(servers.map((s) => driver(s, workersEach)));
// A short warm-up, so the figure is the steady state rather than JIT start-up.
for (let i = 0; i < 200; i++) for (const d of drivers) await d.pair(0);
const probes0 = await Promise.all(servers.map((s) => s.probe()));
const clientRss0 = rssMiB();
const clientCpu0 = process.cpuUsage();
/** @type {{ pairs: number, errors: number, firstError?: string }[]} */
const counts = servers.map(() => ({ pairs: 0, errors: 0 }));
const countOf = (/** @type {number} */ i) => counts[i] ?? missing(`counts for server ${i}`);
const end = performance.now() + seconds * 1000;
const t0 = performance.now();
await Promise.all(
  drivers.flatMap((d, i) =>
    Array.from({ length: workersEach }, async (_, w) => {
      while (performance.now() < end) {
        try {
          await d.pair(w);
          countOf(i).pairs++;
        } catch (e) {
          countOf(i).errors++;
          countOf(i).firstError ??= messageOf(e);
        }
      }
    }),
  ),
);
const secs = (performance.now() - t0) / 1000;
const probes1 = await Promise.all(servers.map((s) => s.probe()));
const clientCpu = process.cpuUsage(clientCpu0);
const pairs = counts.reduce((n, c) => n + c.pairs, 0);
const perServer = servers.map((_, i) => ({
  build: builds[i] ?? 'this checkout',
  pairsPerSecond: Math.round(countOf(i).pairs / secs),
  pairs: countOf(i).pairs,
  errors: countOf(i).errors,
  ...(countOf(i).firstError ? { firstError: countOf(i).firstError?.slice(0, 200) } : {}),
  // CPU per pair hardly depends on what else the machine is running: the server-bound ceiling
  // is what one core would do at that cost.
  serverCpuUsPerPair: Math.round(((probes1[i].cpuMs - probes0[i].cpuMs) * 1000) / Math.max(countOf(i).pairs, 1)),
  serverRssMiB: { start: probes0[i].rssMiB, end: probes1[i].rssMiB },
}));
for (const d of drivers) d.close();
await Promise.all(servers.map((s) => s.stop()));
const common = {
  seconds: Math.round(secs * 10) / 10,
  concurrency,
  client: values.client,
  clientCpuUsPerPair: Math.round((clientCpu.user + clientCpu.system) / Math.max(pairs, 1)),
  clientRssMiB: { start: clientRss0, end: rssMiB() },
};
const line = (r) =>
  `${r.pairsPerSecond} GenerateDataKey+Decrypt pairs/s (${r.pairs} pairs, ${r.errors} errors); server CPU ${r.serverCpuUsPerPair} µs/pair ` +
  `(≈${Math.round(1e6 / Math.max(r.serverCpuUsPerPair, 1))} pairs/s per server core); server RSS ${r.serverRssMiB.start} → ${r.serverRssMiB.end} MiB` +
  `${r.firstError ? `; first error: ${r.firstError}` : ''}`;
if (servers.length === 1) {
  const r = perServer[0] ?? missing('a server');
  const { build: _build, ...single } = r;
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ ...single, ...common })}\n`
      : `kms-local load: ${line(r)}; ${common.seconds} s, concurrency ${concurrency}, ${values.client} client; ` +
          `client CPU ${common.clientCpuUsPerPair} µs/pair, client RSS ${common.clientRssMiB.start} → ${common.clientRssMiB.end} MiB\n`,
  );
} else {
  const [a = missing('server 1'), b = missing('server 2')] = perServer;
  const ratio = Math.round((a.serverCpuUsPerPair / Math.max(b.serverCpuUsPerPair, 1)) * 100) / 100;
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ servers: perServer, serverCpuRatio: ratio, ...common })}\n`
      : `kms-local load, side by side (${common.seconds} s, ${workersEach} workers each, ${values.client} client):\n` +
          perServer.map((r) => `  ${r.build}: ${line(r)}\n`).join('') +
          `  server CPU per pair, this checkout / ${values.compare}: ${ratio}×\n`,
  );
}
