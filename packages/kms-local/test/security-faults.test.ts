import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';

/** The hash constructor SignatureV4 wants, over node:crypto. */
class Sha256 {
  readonly #h;
  constructor(secret?: string | Uint8Array) {
    this.#h = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.#h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.#h.digest();
  }
}
import { isLoopback, startKmsLocal, type KmsLocal } from '../src/index.js';
import { client } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
});
afterAll(() => kms.close());

const errName = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode ?? ''}`.trim());

/** A raw HTTP request to kms-local (for hand-made, hostile requests). */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; path?: string }): Promise<{ status: number; body: string }> {
  const u = new URL(opts.path ?? '/', url);
  return new Promise((resolve, reject) => {
    const r = request(u, { method: opts.method ?? 'POST', headers: opts.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString() }));
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}

async function signed(body: string, opts: { region?: string; date?: Date; target?: string; tamper?: (h: Record<string, string>, b: string) => string } = {}) {
  const u = new URL(kms.url);
  const signer = new SignatureV4({ service: 'kms', region: opts.region ?? 'us-east-1', credentials: kms.credentials, sha256: Sha256 });
  const req = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      headers: { host: u.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': opts.target ?? 'TrentService.ListKeys' },
      body,
    },
    { signingDate: opts.date ?? new Date() },
  );
  const headers = req.headers as Record<string, string>;
  const sentBody = opts.tamper ? opts.tamper(headers, body) : body;
  return raw(kms.url, { headers, body: sentBody });
}

describe('SigV4 and request hygiene', () => {
  it('a correctly signed raw request works', async () => {
    const r = await signed('{}');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toHaveProperty('Keys');
  });
  it('a wrong secret is refused', async () => {
    expect(await errName(client(kms, 'us-east-1', { secret: 'wrong' }).send(new CreateKeyCommand({})))).toBe('InvalidSignatureException 400');
  });
  it('a missing signature, or missing date header, is refused', async () => {
    const none = await raw(kms.url, { headers: { 'x-amz-target': 'TrentService.ListKeys' }, body: '{}' });
    expect(none.status).toBe(400);
    expect(JSON.parse(none.body).__type).toBe('MissingAuthenticationTokenException');
    const noDate = await signed('{}', { tamper: (h, b) => (delete h['x-amz-date'], b) });
    expect(JSON.parse(noDate.body).__type).toBe('IncompleteSignatureException');
  });
  it('a replay outside the 15-minute window is refused', async () => {
    const r = await signed('{}', { date: new Date(Date.now() - 20 * 60 * 1000) });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringMatching(/Signature expired/) });
  });
  it('a tampered body is refused', async () => {
    const r = await signed('{"Limit":1}', { tamper: (_h, b) => b.replace('1', '2') });
    expect(JSON.parse(r.body).__type).toBe('InvalidSignatureException');
  });
  it('a region not served (wrong region in scope) is refused', async () => {
    const r = await signed('{}', { region: 'ap-south-1' });
    expect(JSON.parse(r.body).__type).toBe('InvalidSignatureException');
  });
  it('an unknown access key is refused', async () => {
    const other = await startKmsLocal({ port: 0, credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 's' } });
    try {
      expect(await errName(client(other, 'us-east-1', { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secret: 'x' }).send(new CreateKeyCommand({})))).toBe('UnrecognizedClientException 400');
    } finally {
      await other.close();
    }
  });
  it('malformed JSON, an unknown target and an oversized body are refused cleanly', async () => {
    expect(JSON.parse((await signed('{not json', { target: 'TrentService.ListKeys' })).body).__type).toBe('SerializationException');
    expect(JSON.parse((await signed('{}', { target: 'TrentService.Frobnicate' })).body).__type).toBe('UnknownOperationException');
    const big = await raw(kms.url, { headers: { 'content-length': String(1 << 20) }, body: Buffer.alloc(1 << 20) }).catch((e) => ({ status: 0, body: String(e) }));
    expect([413, 0]).toContain(big.status);
  });
  it('the admin check accepts loopback only', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'fe80::1', undefined]) expect(isLoopback(a)).toBe(false);
  });
});

describe('fault injection, observed from the SDK', () => {
  it('blackhole: the client’s own timeout fires', async () => {
    const { KeyMetadata: k } = await client(kms, 'us-east-1').send(new CreateKeyCommand({}));
    kms.setFault('us-east-1', { mode: 'blackhole' });
    try {
      const t0 = Date.now();
      const e = await errName(client(kms, 'us-east-1', { requestTimeout: 300 }).send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') })));
      expect(e).toMatch(/TimeoutError/);
      expect(Date.now() - t0).toBeLessThan(3000);
      // Other regions are unaffected.
      await client(kms, 'eu-west-1').send(new CreateKeyCommand({}));
    } finally {
      kms.setFault('us-east-1', { mode: 'none' });
    }
  });
  it('refuse: a connection error', async () => {
    kms.setFault('eu-west-1', { mode: 'refuse' });
    try {
      expect(await errName(client(kms, 'eu-west-1').send(new CreateKeyCommand({})))).toMatch(/ECONNRESET|socket hang up|Error/);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });
  it('error: KMSInternalException (HTTP 500) at the given rate', async () => {
    kms.setFault('eu-west-1', { mode: 'error', errorRate: 1 });
    try {
      expect(await errName(client(kms, 'eu-west-1').send(new CreateKeyCommand({})))).toBe('KMSInternalException 500');
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });
  it('throttle: ThrottlingException beyond the rate', async () => {
    const c = client(kms, 'eu-west-1');
    const { KeyMetadata: k } = await c.send(new CreateKeyCommand({}));
    kms.setFault('eu-west-1', { mode: 'throttle', ratePerSecond: 5 });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => errName(c.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 32 })))));
      expect(results.filter((r) => r === 'no error').length).toBeLessThanOrEqual(6);
      expect(results.filter((r) => r === 'ThrottlingException 400').length).toBeGreaterThanOrEqual(14);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });
  it('latency: adds the delay', async () => {
    kms.setFault('eu-west-1', { mode: 'latency', latencyMs: 150 });
    try {
      const t0 = performance.now();
      await client(kms, 'eu-west-1').send(new CreateKeyCommand({}));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });
  it('the admin API: faults, stats per region and operation, reset', async () => {
    const put = await raw(kms.url, { method: 'PUT', path: '/_admin/faults/us-east-1', body: JSON.stringify({ mode: 'latency', latencyMs: 5 }) });
    expect(JSON.parse(put.body)).toEqual({ mode: 'latency', latencyMs: 5 });
    expect((await raw(kms.url, { method: 'PUT', path: '/_admin/faults/us-east-1', body: '{"mode":"bogus"}' })).status).toBe(400);
    await raw(kms.url, { method: 'PUT', path: '/_admin/faults/us-east-1', body: '{"mode":"none"}' });
    await raw(kms.url, { method: 'POST', path: '/_admin/reset-stats' });
    const c = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await c.send(new CreateKeyCommand({}));
    await c.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 32 }));
    await c.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 32 }));
    expect(JSON.parse((await raw(kms.url, { method: 'GET', path: '/_admin/stats' })).body)).toEqual({ 'us-east-1': { CreateKey: 1, GenerateDataKey: 2 } });
  });
});

describe('persistence', () => {
  it('keys (and replicas, rotations, aliases) survive a restart; material at rest is wrapped', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kms-local-'));
    const a = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], dataDir: dir });
    const east = client(a, 'us-east-1');
    const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    await east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'eu-west-1' }));
    const g = await east.send(new GenerateDataKeyCommand({ KeyId: m!.KeyId, NumberOfBytes: 32, EncryptionContext: { p: '1' } }));
    await a.close();
    const state = await readFile(path.join(dir, 'state.json'), 'utf8');
    expect(state).not.toContain(Buffer.from(g.Plaintext!).toString('base64'));
    expect((await stat(path.join(dir, 'root.key'))).mode & 0o077).toBe(0);
    const b = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], dataDir: dir });
    try {
      const d = await client(b, 'eu-west-1').send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: { p: '1' } }));
      expect(Buffer.from(d.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);
    } finally {
      await b.close();
    }
  });
});
