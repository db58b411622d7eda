import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CreateKeyCommand, EncryptCommand, GenerateDataKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { isLoopback, parseFault, startKmsLocal, TokenBucket, type KmsLocal } from '../src/index.js';
import { handleAdmin } from '../src/admin.js';
import { RegionControls } from '../src/controls.js';
import { client, errName, raw } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
});
afterAll(() => kms.close());

const admin = (method: string, path: string, body?: unknown) =>
  raw(kms.url, { method, path, body: body === undefined ? undefined : JSON.stringify(body) });

describe('fault modes, observed from the SDK', () => {
  it('blackhole: accepted and never answered — the client’s own timeout fires; other regions are unaffected', async () => {
    const { KeyMetadata: k } = await client(kms, 'us-east-1').send(new CreateKeyCommand({}));
    kms.setFault('us-east-1', { mode: 'blackhole' });
    try {
      const t0 = performance.now();
      const e = await errName(
        client(kms, 'us-east-1', { requestTimeout: 300 }).send(new EncryptCommand({ KeyId: k!.KeyId, Plaintext: Buffer.from('x') })),
      );
      const took = performance.now() - t0;
      expect(e).toMatch(/TimeoutError/);
      expect(took).toBeGreaterThanOrEqual(280);
      expect(took).toBeLessThan(3000);
      expect((await client(kms, 'eu-west-1').send(new ListKeysCommand({}))).Keys).toBeDefined();
    } finally {
      kms.setFault('us-east-1', { mode: 'none' });
    }
  });

  it('blackhole: close() still ends the held sockets (and resolves promptly)', async () => {
    const other = await startKmsLocal({ regions: ['us-east-1'], port: 0 });
    other.setFault('us-east-1', { mode: 'blackhole' });
    const pending = errName(client(other, 'us-east-1', { requestTimeout: 20_000 }).send(new ListKeysCommand({})));
    await new Promise((r) => setTimeout(r, 100));
    expect(other.stats()['us-east-1']?.ListKeys).toBe(1); // it arrived, and is being held
    const t0 = performance.now();
    await other.close();
    expect(await pending).not.toBe('no error');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('refuse: the connection is destroyed at once (a network error, no HTTP status)', async () => {
    kms.setFault('eu-west-1', { mode: 'refuse' });
    try {
      const e = await errName(client(kms, 'eu-west-1').send(new ListKeysCommand({})));
      expect(e).not.toBe('no error');
      expect(e).not.toMatch(/\d{3}$/);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('error: HTTP 500 KMSInternalException at errorRate (1 → every request, 0 → none)', async () => {
    kms.setFault('eu-west-1', { mode: 'error', errorRate: 1 });
    try {
      expect(await errName(client(kms, 'eu-west-1').send(new ListKeysCommand({})))).toBe('KMSInternalException 500');
      kms.setFault('eu-west-1', { mode: 'error', errorRate: 0 });
      expect(await errName(client(kms, 'eu-west-1').send(new ListKeysCommand({})))).toBe('no error');
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('throttle: ThrottlingException past ratePerSecond', async () => {
    const c = client(kms, 'eu-west-1');
    const { KeyMetadata: k } = await c.send(new CreateKeyCommand({}));
    kms.setFault('eu-west-1', { mode: 'throttle', ratePerSecond: 5 });
    try {
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => errName(c.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 32 })))),
      );
      const refilled = Math.floor(((performance.now() - t0) / 1000) * 5); // tokens that came back meanwhile (a busy machine is slow)
      const ok = results.filter((r) => r === 'no error').length;
      expect(ok).toBeGreaterThanOrEqual(5);
      expect(ok).toBeLessThanOrEqual(5 + refilled);
      expect(ok).toBeLessThan(20);
      expect(results.filter((r) => r === 'ThrottlingException 400')).toHaveLength(20 - ok);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('latency: the added delay is measured by the client', async () => {
    const c = client(kms, 'eu-west-1');
    await c.send(new ListKeysCommand({})); // warm the connection
    kms.setFault('eu-west-1', { mode: 'latency', latencyMs: 150 });
    try {
      const t0 = performance.now();
      await c.send(new ListKeysCommand({}));
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(145);
      expect(took).toBeLessThan(1500);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('quotas: a configured request rate per region gives ThrottlingException past it', async () => {
    const q = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0, quotas: { 'us-east-1': 3 } });
    try {
      const t0 = performance.now();
      const east = await Promise.all(Array.from({ length: 8 }, () => errName(client(q, 'us-east-1').send(new ListKeysCommand({})))));
      const refilled = Math.floor(((performance.now() - t0) / 1000) * 3);
      const ok = east.filter((r) => r === 'no error').length;
      expect(ok).toBeGreaterThanOrEqual(3);
      expect(ok).toBeLessThanOrEqual(3 + refilled);
      expect(east.filter((r) => r === 'ThrottlingException 400')).toHaveLength(8 - ok);
      const eu = await Promise.all(Array.from({ length: 8 }, () => errName(client(q, 'eu-west-1').send(new ListKeysCommand({})))));
      expect(eu.every((r) => r === 'no error')).toBe(true);
    } finally {
      await q.close();
    }
    await expect(startKmsLocal({ regions: ['us-east-1'], quotas: { 'eu-west-1': 1 } })).rejects.toThrow(/does not serve/);
  });

  it('throttle: a throttled region recovers as the bucket refills', async () => {
    kms.setFault('eu-west-1', { mode: 'throttle', ratePerSecond: 1 });
    try {
      const c = client(kms, 'eu-west-1');
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('no error'); // the one token
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('ThrottlingException 400');
      await new Promise((r) => setTimeout(r, 1100)); // 1/s: a token is back
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('no error');
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });
});

describe('admin API', () => {
  it('PUT/GET faults, stats per region and operation, reset-stats, reset', async () => {
    expect(JSON.parse((await admin('PUT', '/_admin/faults/us-east-1', { mode: 'latency', latencyMs: 5 })).body)).toEqual({
      mode: 'latency',
      latencyMs: 5,
    });
    expect(JSON.parse((await admin('GET', '/_admin/faults')).body)).toEqual({ 'us-east-1': { mode: 'latency', latencyMs: 5 } });
    expect(kms.faults()).toEqual({ 'us-east-1': { mode: 'latency', latencyMs: 5 } });
    expect((await admin('PUT', '/_admin/faults/us-east-1', { mode: 'bogus' })).status).toBe(400);
    expect((await admin('PUT', '/_admin/faults/us-east-1', { mode: 'error', errorRate: 2 })).status).toBe(400);
    expect((await admin('PUT', '/_admin/faults/us-east-1', { mode: 'throttle' })).status).toBe(400);
    expect((await admin('PUT', '/_admin/faults/ap-south-1', { mode: 'none' })).status).toBe(404);
    expect((await raw(kms.url, { method: 'PUT', path: '/_admin/faults/us-east-1', body: 'x'.repeat(5000) })).status).toBe(400);

    expect((await admin('POST', '/_admin/reset-stats')).status).toBe(200);
    const east = client(kms, 'us-east-1');
    const { KeyMetadata: k } = await east.send(new CreateKeyCommand({}));
    await east.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 32 }));
    await east.send(new GenerateDataKeyCommand({ KeyId: k!.KeyId, NumberOfBytes: 32 }));
    await client(kms, 'eu-west-1').send(new ListKeysCommand({}));
    expect(JSON.parse((await admin('GET', '/_admin/stats')).body)).toEqual({
      'us-east-1': { CreateKey: 1, GenerateDataKey: 2 },
      'eu-west-1': { ListKeys: 1 },
    });
    expect(kms.stats()).toEqual({ 'us-east-1': { CreateKey: 1, GenerateDataKey: 2 }, 'eu-west-1': { ListKeys: 1 } });

    await admin('POST', '/_admin/reset-stats');
    expect(JSON.parse((await admin('GET', '/_admin/stats')).body)).toEqual({});
    expect(kms.faults()).toHaveProperty('us-east-1'); // reset-stats leaves faults alone
    await east.send(new ListKeysCommand({}));
    await admin('POST', '/_admin/reset');
    expect(JSON.parse((await admin('GET', '/_admin/faults')).body)).toEqual({});
    expect(JSON.parse((await admin('GET', '/_admin/stats')).body)).toEqual({});
    expect((await admin('GET', '/_admin/nothing')).status).toBe(404);
  });

  it('refuses non-loopback clients with 403 (the handler, with a non-loopback peer)', async () => {
    const controls = new RegionControls(['us-east-1']);
    const answer = async (remoteAddress: string, method: string, path: string): Promise<{ status: number; body: string }> => {
      const req = Object.assign(new EventEmitter(), {
        method,
        socket: { remoteAddress },
        headers: { host: 'localhost' },
      }) as unknown as IncomingMessage;
      let status = 0;
      let body = '';
      const res = {
        writeHead: (s: number) => (status = s),
        end: (b: string) => (body = b),
        headersSent: false,
      } as unknown as ServerResponse;
      await handleAdmin(req, res, path, controls);
      return { status, body };
    };
    for (const addr of ['10.1.2.3', '192.168.0.1', '::ffff:10.0.0.1', 'fe80::1', '8.8.8.8']) {
      expect((await answer(addr, 'GET', '/_admin/stats')).status).toBe(403);
      expect((await answer(addr, 'POST', '/_admin/reset')).status).toBe(403);
    }
    expect(await answer('127.0.0.1', 'GET', '/_admin/stats')).toEqual({ status: 200, body: '{}' });
    expect((await answer('::1', 'GET', '/_admin/faults')).status).toBe(200);
  });

  it('isLoopback: 127/8, ::1 and IPv4-mapped loopback only', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.9']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'fe80::1', '127.0.0.256', '1127.0.0.1', '', undefined])
      expect(isLoopback(a)).toBe(false);
  });

  it('parseFault and the token bucket (unit)', () => {
    expect(parseFault({ mode: 'throttle', ratePerSecond: 5 })).toEqual({ mode: 'throttle', ratePerSecond: 5 });
    expect(() => parseFault({ mode: 'latency' })).toThrow(/latencyMs/);
    expect(() => parseFault({ mode: 'latency', latencyMs: 10_000_000 })).toThrow(/latencyMs/);
    expect(() => parseFault([])).toThrow();
    expect(() => kms.setFault('us-east-1', { mode: 'nope' as never })).toThrow(/mode/);
    const b = new TokenBucket(2, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([true, true, false]);
    expect(b.take(500)).toBe(true); // half a second refills one token
    expect(new TokenBucket(0).take()).toBe(false);
  });
});
