#!/usr/bin/env node
/**
 * Load on kms-local: GenerateDataKey + Decrypt pairs from one client process with keep-alive.
 *   node bench/kms-local-load.mjs [--seconds 10] [--concurrency 32]
 * Reports pairs per second, errors and RSS. Needs the built packages.
 */
import { parseArgs } from 'node:util';
import http from 'node:http';
import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '32' }, client: { type: 'string', default: 'sdk' }, json: { type: 'boolean' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
// The server runs in its own process (as `envelope kms-local` would), the client in this one.
const server = spawn(process.execPath, [...(process.env.SERVER_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/sprof'] : []), new URL('./kms-local-server.mjs', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
const [line] = await once(server.stdout.setEncoding('utf8'), 'data');
const kms = JSON.parse(line);
const client = new KMSClient({
  region: 'us-east-1',
  endpoint: kms.url,
  credentials: kms.credentials,
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency }), requestTimeout: 5000, throwOnRequestTimeout: true }),
});
const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata.Arn;

// --client signed: the same requests, SigV4-signed by hand (node:crypto) over a keep-alive agent,
// to measure kms-local rather than the AWS SDK's per-request client overhead.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const url = new URL(kms.url);
const hmac = (k, d) => createHmac('sha256', k).update(d).digest();
const sha = (d) => createHash('sha256').update(d).digest('hex');
function signedCall(op, body) {
  const payload = JSON.stringify(body);
  const amz = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = amz.slice(0, 8);
  const headers = { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-date': amz, 'x-amz-target': `TrentService.${op}` };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), sha(payload)].join('\n');
  const scope = `${date}/us-east-1/kms/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${kms.credentials.secretAccessKey}`, date), 'us-east-1'), 'kms'), 'aws4_request');
  const sig = hmac(key, ['AWS4-HMAC-SHA256', amz, scope, sha(canonical)].join('\n')).toString('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${kms.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers, agent }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(parts).toString())) : reject(new Error(Buffer.concat(parts).toString()))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
const pair =
  values.client === 'signed'
    ? async () => {
        const g = await signedCall('GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32, EncryptionContext: { load: 'test' } });
        const d = await signedCall('Decrypt', { CiphertextBlob: g.CiphertextBlob, KeyId: keyId, EncryptionContext: { load: 'test' } });
        if (d.Plaintext !== g.Plaintext) throw new Error('mismatch');
      }
    : async () => {
        const g = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32, EncryptionContext: { load: 'test' } }));
        const d = await client.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, KeyId: keyId, EncryptionContext: { load: 'test' } }));
        if (Buffer.compare(Buffer.from(d.Plaintext), Buffer.from(g.Plaintext)) !== 0) throw new Error('mismatch');
      };
const rss0 = process.memoryUsage().rss;
let pairs = 0;
let errors = 0;
let rssMax = rss0;
const end = Date.now() + seconds * 1000;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      try {
        await pair();
        pairs++;
        if ((pairs & 1023) === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
      } catch {
        errors++;
      }
    }
  }),
);
const secs = (performance.now() - t0) / 1000;
server.stdin.end();
client.destroy();
const report = { pairsPerSecond: Math.round(pairs / secs), pairs, errors, seconds: Math.round(secs * 10) / 10, concurrency, rssStartMiB: Math.round(rss0 / 2 ** 20), rssMaxMiB: Math.round(rssMax / 2 ** 20) };
process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `kms-local load: ${report.pairsPerSecond} GenerateDataKey+Decrypt pairs/s (${pairs} pairs, ${errors} errors, ${report.seconds} s, concurrency ${concurrency}, ${values.client} client), client RSS ${report.rssStartMiB} → ${report.rssMaxMiB} MiB\n`);
