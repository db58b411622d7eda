/**
 * The SDK adapter and supplier over real HTTP on loopback (no kms-local): a silent endpoint
 * fails in bounded time, through our deadline and through the HTTP request timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { EnvelopeError } from '@envelope/core';
import { KmsKeyring, kmsClientSupplier } from '../src/index.js';
import { arn, dm, edk } from './helpers.js';

let blackhole: Server;
let refuse: Server;
const sockets = new Set<Socket>();
const url = (s: Server) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;
const credentials = Object.freeze({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

beforeAll(async () => {
  // Accepts connections, reads requests, never answers.
  blackhole = createServer((s) => {
    sockets.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
  });
  // Closes every connection at once.
  refuse = createServer((s) => s.destroy());
  await Promise.all([blackhole, refuse].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([blackhole, refuse].map((s) => new Promise((r) => s.close(r))));
});

const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (e: EnvelopeError) => e,
  );

describe('kmsClientSupplier', () => {
  it('caches one client per region; rejects bad options by name', () => {
    const s = kmsClientSupplier({ endpoint: 'http://127.0.0.1:1', credentials });
    expect(s('us-east-1')).toBe(s('us-east-1'));
    expect(s('us-east-1')).not.toBe(s('eu-west-1'));
    expect(() => kmsClientSupplier({ requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
    expect(() => kmsClientSupplier({ maxAttempts: -1 })).toThrow(/maxAttempts/);
    expect(() => kmsClientSupplier({ endpoint: 'not a url' })).toThrow(/endpoint/);
    expect(() => s('')).toThrow(/region/);
  });

  it('a blackholed endpoint: our per-call deadline aborts the HTTP request (frozen credentials are fine)', async () => {
    const clients = kmsClientSupplier({ endpoint: url(blackhole), credentials, requestTimeoutMs: 30_000 });
    const k = new KmsKeyring({
      clientSupplier: clients,
      keyIds: [arn('us-east-1', 'k')],
      callTimeoutMs: 200,
      maxRetries: 1,
      baseDelayMs: 1,
      maxDelayMs: 1,
    });
    const before = sockets.size;
    const t0 = performance.now();
    const e = await fail(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]));
    const ms = performance.now() - t0;
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes).toEqual([expect.objectContaining({ key: arn('us-east-1', 'k'), region: 'us-east-1', reason: 'TimeoutError' })]);
    expect(ms).toBeGreaterThanOrEqual(2 * 200 - 20);
    expect(ms).toBeLessThan(2 * 200 + 400);
    expect(sockets.size).toBeGreaterThan(before);
  });

  it('a blackholed endpoint: the HTTP request timeout alone also ends the call (throwOnRequestTimeout)', async () => {
    const clients = kmsClientSupplier({ endpoint: url(blackhole), credentials, requestTimeoutMs: 150 });
    const k = new KmsKeyring({ clientSupplier: clients, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 30_000, maxRetries: 0 });
    const t0 = performance.now();
    const e = await fail(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]));
    expect(e.causes[0]!.reason).toBe('TimeoutError');
    expect(performance.now() - t0).toBeLessThan(150 + 1000);
  });

  it('the caller’s signal aborts the HTTP request to a blackholed endpoint at once', async () => {
    const clients = kmsClientSupplier({ endpoint: url(blackhole), credentials, requestTimeoutMs: 30_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    const e = await fail(
      new KmsKeyring({ clientSupplier: clients, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 30_000 }).onDecrypt(
        dm(),
        [edk(arn('us-east-1', 'k'))],
        { signal: ac.signal },
      ),
    );
    expect(e.code).toBe('ENVELOPE_ABORTED');
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('a refusing endpoint: a connection error, retried, then a coded failure', async () => {
    const clients = kmsClientSupplier({ endpoint: url(refuse), credentials });
    const e = await fail(
      new KmsKeyring({ clientSupplier: clients, keyIds: [arn('us-east-1', 'k')], maxRetries: 1, baseDelayMs: 1 }).onDecrypt(dm(), [
        edk(arn('us-east-1', 'k')),
      ]),
    );
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes[0]!.reason).toMatch(/^(ECONNRESET|EPIPE)$/);
  });
});
