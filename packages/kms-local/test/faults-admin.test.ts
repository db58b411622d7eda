import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CreateKeyCommand, GenerateDataKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { isLoopback, parseFault, startKmsLocal, TokenBucket, type Fault, type KmsLocal } from '../src/index.js';
import { handleAdmin } from '../src/admin.js';
import { RegionControls } from '../src/controls.js';
import { ManualClock } from '@envelope/keyring-kms';
import { client, errName, nextTimer, raw, signed, tracked } from './helpers.js';

const clock = new ManualClock();
let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0, clock });
});
afterAll(() => kms.close());

const admin = (method: string, path: string, body?: unknown) =>
  raw(kms.url, { method, path, body: body === undefined ? undefined : JSON.stringify(body) });

/** Resolves with the region of the next request kms-local counts (it has arrived and been authenticated). */
function nextArrival(): Promise<string> {
  const count = RegionControls.prototype.count;
  return new Promise((resolve) => {
    const spy = vi.spyOn(RegionControls.prototype, 'count').mockImplementation(function (this: RegionControls, region, operation) {
      spy.mockRestore();
      count.call(this, region, operation);
      resolve(region);
    });
  });
}

/** One region's GenerateDataKey results, all sent at once while the fake clock stands still (`fault` set after the key is made). */
async function burst(k: KmsLocal, region: string, n: number, fault?: Fault): Promise<string[]> {
  const c = client(k, region);
  const { KeyMetadata: key } = await c.send(new CreateKeyCommand({}));
  if (fault) k.setFault(region, fault);
  return Promise.all(
    Array.from({ length: n }, () => errName(c.send(new GenerateDataKeyCommand({ KeyId: key!.KeyId, NumberOfBytes: 32 })))),
  );
}
const served = (results: string[]): number => results.filter((r) => r === 'no error').length;

describe('fault modes, observed over HTTP (time on a fake clock)', () => {
  it('blackhole: accepted and never answered while other regions are; close() ends the held socket', async () => {
    const other = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
    other.setFault('us-east-1', { mode: 'blackhole' });
    const arrived = nextArrival();
    const held = tracked(signed(other, '{}', { region: 'us-east-1' }));
    expect(await arrived).toBe('us-east-1');
    expect(other.stats()['us-east-1']).toEqual({ ListKeys: 1 }); // it arrived, and is being held
    expect((await signed(other, '{}', { region: 'eu-west-1' })).status).toBe(200); // answered meanwhile
    expect(held.settled).toBe(false);
    await other.close();
    await expect(held.promise).rejects.toMatchObject({ code: 'ECONNRESET' }); // ended by close(), no answer
  });

  it('blackhole: the SDK client’s own request timeout is what ends its call', async () => {
    kms.setFault('us-east-1', { mode: 'blackhole' });
    try {
      const e = await errName(client(kms, 'us-east-1', { requestTimeout: 200 }).send(new ListKeysCommand({})));
      expect(e).toMatch(/TimeoutError/);
      expect((await client(kms, 'eu-west-1').send(new ListKeysCommand({}))).Keys).toBeDefined();
    } finally {
      kms.setFault('us-east-1', { mode: 'none' });
    }
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

  it('throttle: exactly ratePerSecond requests are served from a full bucket, the rest ThrottlingException', async () => {
    try {
      const results = await burst(kms, 'eu-west-1', 20, { mode: 'throttle', ratePerSecond: 5 });
      expect(served(results)).toBe(5);
      expect(results.filter((r) => r === 'ThrottlingException 400')).toHaveLength(15);
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('throttle: a throttled region recovers as the bucket refills (one token per 1/rate s)', async () => {
    kms.setFault('eu-west-1', { mode: 'throttle', ratePerSecond: 1 });
    try {
      const c = client(kms, 'eu-west-1');
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('no error'); // the one token
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('ThrottlingException 400');
      await clock.advance(999);
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('ThrottlingException 400'); // 0.999 of a token
      await clock.advance(1);
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('no error');
      expect(await errName(c.send(new ListKeysCommand({})))).toBe('ThrottlingException 400');
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('latency: a request is served only once latencyMs have passed; other regions meanwhile at once', async () => {
    kms.setFault('us-east-1', { mode: 'latency', latencyMs: 150 });
    try {
      const delayed = nextTimer(clock);
      const slow = tracked(signed(kms, '{}', { region: 'us-east-1' }));
      await delayed; // it arrived and waits on the clock
      await clock.advance(149);
      expect((await signed(kms, '{}', { region: 'eu-west-1' })).status).toBe(200);
      expect(slow.settled).toBe(false);
      await clock.advance(1);
      expect((await slow.promise).status).toBe(200);
      expect(clock.pendingTimers).toBe(0);
    } finally {
      kms.setFault('us-east-1', { mode: 'none' });
    }
  });

  it('latency: close() ends a pending delay (no timer outlives the server)', async () => {
    const own = new ManualClock();
    const other = await startKmsLocal({ regions: ['us-east-1'], port: 0, clock: own });
    other.setFault('us-east-1', { mode: 'latency', latencyMs: 600_000 });
    const delayed = nextTimer(own);
    const slow = tracked(signed(other, '{}'));
    await delayed;
    expect(own.pendingTimers).toBe(1);
    await other.close();
    expect(own.pendingTimers).toBe(0);
    await expect(slow.promise).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('quotas: a configured request rate per region gives ThrottlingException past it; other regions are not limited', async () => {
    const q = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0, quotas: { 'us-east-1': 3 }, clock: new ManualClock() });
    try {
      const east = await burst(q, 'us-east-1', 8);
      expect(served(east)).toBe(2); // CreateKey took the first of the 3 tokens
      expect(east.filter((r) => r === 'ThrottlingException 400')).toHaveLength(6);
      expect(served(await burst(q, 'eu-west-1', 8))).toBe(8);
    } finally {
      await q.close();
    }
    await expect(startKmsLocal({ regions: ['us-east-1'], quotas: { 'eu-west-1': 1 } })).rejects.toThrow(/does not serve/);
  });
});

describe('admin API', () => {
  it('PUT/GET faults, stats per region and operation, reset-stats, reset', async () => {
    // An error fault at rate 0: in force, yet every request is served.
    expect(JSON.parse((await admin('PUT', '/_admin/faults/us-east-1', { mode: 'error', errorRate: 0 })).body)).toEqual({
      mode: 'error',
      errorRate: 0,
    });
    expect(JSON.parse((await admin('GET', '/_admin/faults')).body)).toEqual({ 'us-east-1': { mode: 'error', errorRate: 0 } });
    expect(kms.faults()).toEqual({ 'us-east-1': { mode: 'error', errorRate: 0 } });
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
