import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { DEFAULT_CREDENTIALS, isLoopbackHost, startKmsLocal, type KmsLocal } from '../src/index.js';
import { client, raw, signed, typeOf } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
});
afterAll(() => kms.close());

const port = (k: KmsLocal): string => String(k.port);

describe('15.7: who may use the admin API (over HTTP, server on 127.0.0.1)', () => {
  it('15.7: a cross-site text/plain PUT (Origin: http://evil.example, Host: evil.example) is refused; the region is not blackholed', async () => {
    const r = await raw(kms.url, {
      method: 'PUT',
      path: '/_admin/faults/us-east-1',
      headers: { origin: 'http://evil.example', host: 'evil.example', 'content-type': 'text/plain' },
      body: '{"mode":"blackhole"}',
    });
    expect(r.status).toBe(403);
    expect(typeOf(r)).toBe('AccessDeniedException');
    expect(kms.faults()).toEqual({});
    expect((await client(kms, 'us-east-1').send(new ListKeysCommand({}))).Keys).toBeDefined();
  });

  it('15.7: an Origin header alone is refused, even with a loopback Host', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${port(kms)}`]) {
      const r = await raw(kms.url, { method: 'PUT', path: '/_admin/faults/eu-west-1', headers: { origin }, body: '{"mode":"refuse"}' });
      expect(r.status, origin).toBe(403);
      expect(JSON.parse(r.body).message).toMatch(/Origin/);
    }
    expect(kms.faults()).toEqual({});
  });

  it('15.7: a non-loopback Host (DNS rebinding) is refused without any Origin; loopback names are served', async () => {
    for (const host of ['evil.example', `evil.example:${port(kms)}`, '10.0.0.1', '127.0.0.1.evil.example', 'localhost.evil.example']) {
      const r = await raw(kms.url, { method: 'POST', path: '/_admin/reset', headers: { host } });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body).message).toMatch(/loopback Host/);
    }
    for (const host of [`localhost:${port(kms)}`, `127.0.0.1:${port(kms)}`, `127.9.9.9:${port(kms)}`, `[::1]:${port(kms)}`, 'localhost']) {
      const r = await raw(kms.url, { method: 'GET', path: '/_admin/faults', headers: { host } });
      expect(r.status, host).toBe(200);
    }
  });

  it('15.7: with an admin token, x-admin-token must carry it (and Origin and Host are still checked)', async () => {
    const guarded = await startKmsLocal({ regions: ['us-east-1'], port: 0, adminToken: 'sesame-open-42' });
    try {
      const put = (headers: Record<string, string>) =>
        raw(guarded.url, { method: 'PUT', path: '/_admin/faults/us-east-1', headers, body: '{"mode":"blackhole"}' });
      expect((await put({})).status).toBe(401);
      expect((await put({ 'x-admin-token': 'sesame-open-41' })).status).toBe(401);
      expect((await put({ 'x-admin-token': 'sesame' })).status).toBe(401);
      expect((await put({ 'x-admin-token': 'sesame-open-42', origin: 'http://evil.example' })).status).toBe(403);
      expect((await put({ 'x-admin-token': 'sesame-open-42', host: 'evil.example' })).status).toBe(403);
      expect(guarded.faults()).toEqual({});
      expect((await put({ 'x-admin-token': 'sesame-open-42' })).status).toBe(200);
      expect(guarded.faults()).toEqual({ 'us-east-1': { mode: 'blackhole' } });
    } finally {
      await guarded.close();
    }
    await expect(startKmsLocal({ port: 0, adminToken: 'short' })).rejects.toThrow(/adminToken/);
  });

  it('15.7: the KMS API refuses browsers too (a signed request with an Origin header)', async () => {
    const r = await signed(kms, '{}', { extraHeaders: { origin: 'http://evil.example' }, unsigned: ['origin'] });
    expect(r.status).toBe(400);
    expect(typeOf(r)).toBe('AccessDeniedException');
    expect((await signed(kms, '{}')).status).toBe(200);
  });

  it('isLoopbackHost: localhost, 127/8 and [::1], with or without a port', () => {
    for (const h of ['localhost', 'LOCALHOST:80', '127.0.0.1', '127.1.2.3:4566', '[::1]', '[::1]:4566'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['', undefined, 'evil.example', '::1', '[::1', '[::1]x', '[fe80::1]:80', '0.0.0.0', 'localhost:port', '127.0.0.1:1:2'])
      expect(isLoopbackHost(h), String(h)).toBe(false);
  });
});

describe('15.7: binding beyond loopback needs credentials of your own', () => {
  it('15.7: --host 0.0.0.0 with the public documentation credentials is refused (given or defaulted)', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
      await expect(startKmsLocal({ host, port: 0 })).rejects.toMatchObject({ code: 'ENVELOPE_CONFIG', message: /not a loopback/ });
      await expect(startKmsLocal({ host, port: 0, credentials: DEFAULT_CREDENTIALS })).rejects.toMatchObject({ code: 'ENVELOPE_CONFIG' });
    }
  });

  it('15.7: with credentials of its own it binds 0.0.0.0, and local clients reach it through loopback', async () => {
    const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'a-secret-of-our-own' };
    const open = await startKmsLocal({ host: '0.0.0.0', port: 0, regions: ['us-east-1'], credentials });
    try {
      expect(open.url).toBe(`http://127.0.0.1:${open.port}`);
      expect((await client(open, 'us-east-1').send(new ListKeysCommand({}))).Keys).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
