/**
 * The SDK adapter and supplier over real HTTP on loopback (no kms-local): a silent endpoint
 * fails through our deadline (on a manual clock, advanced once the request has arrived) and
 * through the HTTP request timeout; the caller's abort ends the request; the client cache is
 * bounded (15.i3). Event-driven: no sleeps, no wall-time bounds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KMSClient } from '@aws-sdk/client-kms';
import { createServer, type Server, type Socket } from 'node:net';
import type { EnvelopeError } from '@envelope/core';
import { KmsKeyring, ManualClock, kmsClientSupplier } from '../src/index.js';
import { arn, dm, edk } from './helpers.js';

let blackhole: Server;
let refuse: Server;
const sockets = new Set<Socket>();
let onRequest: (() => void)[] = [];
/** Resolves when the blackhole has received the next request's bytes. */
const nextRequest = () => new Promise<void>((r) => onRequest.push(r));
const url = (s: Server) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;
const credentials = Object.freeze({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

beforeAll(async () => {
  // Accepts connections, reads requests, never answers.
  blackhole = createServer((s) => {
    sockets.add(s);
    s.on('data', () => {
      const waiting = onRequest;
      onRequest = [];
      for (const w of waiting) w();
    });
    s.once('close', () => sockets.delete(s));
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

  it('a blackholed endpoint: our per-call deadline aborts the HTTP request; a deadline is ENVELOPE_TIMEOUT', async () => {
    const clients = kmsClientSupplier({ endpoint: url(blackhole), credentials, requestTimeoutMs: 600_000 });
    const clock = new ManualClock();
    const k = new KmsKeyring({ clientSupplier: clients, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 200, maxRetries: 1, clock });
    let arrived = nextRequest();
    const p = k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]);
    p.catch(() => {});
    for (let attempt = 0; attempt < 2; attempt++) {
      await arrived; // the request is at the (silent) server
      const closed = Promise.all([...sockets].map((s) => new Promise((r) => s.once('close', r))));
      arrived = nextRequest();
      await clock.advance(200); // our deadline fires on the clock ...
      await closed; // ... and the abort reached the socket: the request is gone, not left hanging
      await clock.advance(25); // the backoff before the one retry
    }
    const e = await fail(p);
    expect(e.code).toBe('ENVELOPE_TIMEOUT');
    expect(e.causes).toEqual([expect.objectContaining({ key: arn('us-east-1', 'k'), region: 'us-east-1', reason: 'TimeoutError' })]);
  });

  it('a blackholed endpoint: the HTTP request timeout alone also ends the call (throwOnRequestTimeout)', async () => {
    const clients = kmsClientSupplier({ endpoint: url(blackhole), credentials, requestTimeoutMs: 150 });
    // Our own deadline is on a clock that never moves: only the SDK's request timeout can end this.
    const clock = new ManualClock();
    const k = new KmsKeyring({ clientSupplier: clients, keyIds: [arn('us-east-1', 'k')], callTimeoutMs: 1000, maxRetries: 0, clock });
    const e = await fail(k.onDecrypt(dm(), [edk(arn('us-east-1', 'k'))]));
    expect(e.code).toBe('ENVELOPE_TIMEOUT');
    expect(e.causes[0]!.reason).toBe('TimeoutError');
    expect(clock.now()).toBe(0);
  });

  it('the caller’s signal aborts the HTTP request to a blackholed endpoint at once', async () => {
    const clients = kmsClientSupplier({ endpoint: url(blackhole), credentials, requestTimeoutMs: 600_000 });
    const ac = new AbortController();
    const arrived = nextRequest();
    const p = new KmsKeyring({
      clientSupplier: clients,
      keyIds: [arn('us-east-1', 'k')],
      callTimeoutMs: 1000,
      clock: new ManualClock(),
    }).onDecrypt(dm(), [edk(arn('us-east-1', 'k'))], { signal: ac.signal });
    await arrived;
    const closed = Promise.all([...sockets].map((s) => new Promise((r) => s.once('close', r))));
    ac.abort();
    const e = await fail(p);
    expect(e.code).toBe('ENVELOPE_ABORTED');
    await closed;
  });

  it('15.i3: the client cache is bounded; least recently used clients are destroyed once idle', () => {
    const destroyed: string[] = [];
    const s = kmsClientSupplier({ endpoint: 'http://127.0.0.1:1', credentials, maxClients: 4 });
    const spy = vi.spyOn(KMSClient.prototype, 'destroy').mockImplementation(() => {
      destroyed.push('x');
    });
    try {
      const first = s('us-east-1');
      // An attacker-written header can name any region: 300 of them.
      for (let i = 0; i < 300; i++) s(`xx-attacker-${i}`);
      s('us-east-1');
      expect(s.size).toBe(4);
      expect(destroyed).toHaveLength(302 - 4); // 302 clients made, 4 kept
      expect(s('us-east-1')).not.toBe(first); // evicted long ago, made anew
    } finally {
      spy.mockRestore();
    }
    expect(() => kmsClientSupplier({ maxClients: 0 })).toThrow(/maxClients/);
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
