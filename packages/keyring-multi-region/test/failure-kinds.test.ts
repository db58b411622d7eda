/**
 * Issue 17.1, with real parts: one test per failure kind, each showing the primary region's
 * breaker opening (a failure of the region: DNS, connect, TLS, socket, 5xx, timeout) or staying
 * closed (throttling, a key's or a request's refusal), through a MultiRegionKeyring over the
 * real @aws-sdk/client-kms: kms-local for the secondary region and for the faults it can inject,
 * an endpoint that does not resolve, a closed port, and TLS spoken to a plain HTTP port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { decrypt, encrypt } from '@envelope/core';
import { RegionPacer, kmsClientSupplier, kmsOperations, type KmsClientSupplier } from '@envelope/keyring-kms';
import { startKmsLocal, type Fault, type KmsLocal } from '@envelope/kms-local';
import { HealthRegistry, MultiRegionKeyring } from '../src/index.js';

let kms: KmsLocal;
let keys: string[];
let closedPort: number;
let ciphertext: Uint8Array;
const pt = Buffer.from('which failures count against a region?');

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'us-west-2'], port: 0 });
  keys = [];
  for (const region of ['us-east-1', 'us-west-2']) {
    const c = new KMSClient({ region, endpoint: kms.url, credentials: kms.credentials });
    keys.push((await c.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!);
  }
  // A port nobody listens on: bound, noted, closed.
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedPort = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  ({ ciphertext } = await encrypt(pt, {
    keyring: keyring(kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials })).keyring,
    suite: 0x0478,
  }));
});
afterAll(() => kms.close());

/**
 * A keyring over both regions whose primary (us-east-1) is reached through `primary`. The hedge
 * delay is long (unless a test needs hedging), so that each failure reaches the breaker as
 * itself, not as a hedged call that lost the race (`slow`), however loaded the machine.
 */
function keyring(supplier: KmsClientSupplier, primary: KmsClientSupplier = supplier, hedgeAfterMs = 5000) {
  const health = new HealthRegistry({ breaker: { failureThreshold: 3, openMs: 600_000 } });
  const pacer = new RegionPacer();
  const keyring = new MultiRegionKeyring({
    keys: keys.map((keyId) => ({ keyId })),
    kms: kmsOperations((region) => (region === 'us-east-1' ? primary(region) : supplier(region))),
    health,
    pacer,
    hedgeAfterMs,
    callTimeoutMs: 1000,
    deadlineMs: 8000,
  });
  return { keyring, health, pacer };
}

const healthy = () => kmsClientSupplier({ endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 2000 });

/** Eight decrypts, each of which must succeed (through the secondary when the primary fails); the primary's health after. */
async function eightDecrypts(primary: KmsClientSupplier, fault?: Fault, hedgeAfterMs?: number) {
  const { keyring: k, health, pacer } = keyring(healthy(), primary, hedgeAfterMs);
  if (fault) kms.setFault('us-east-1', fault);
  try {
    for (let i = 0; i < 8; i++) expect(Buffer.from((await decrypt(ciphertext, { keyring: k })).plaintext).equals(pt)).toBe(true);
  } finally {
    kms.setFault('us-east-1', { mode: 'none' });
  }
  return { ...health.regionHealth('us-east-1'), pace: pacer.snapshot().find((p) => p.region === 'us-east-1') };
}

describe('failures of the region open its breaker', () => {
  it('DNS: an endpoint that does not resolve (ENOTFOUND), the reported bug: 0 failures after 8 decrypts before', async () => {
    const h = await eightDecrypts(
      kmsClientSupplier({ endpoint: 'http://kms.us-east-1.does-not-resolve.invalid', credentials: kms.credentials }),
    );
    expect(h).toMatchObject({ breaker: 'open', failures: 3, lastError: 'ENOTFOUND' });
  });

  it('connect: a closed port (ECONNREFUSED)', async () => {
    const h = await eightDecrypts(kmsClientSupplier({ endpoint: `http://127.0.0.1:${closedPort}`, credentials: kms.credentials }));
    expect(h).toMatchObject({ breaker: 'open', failures: 3, lastError: 'ECONNREFUSED' });
  });

  it('TLS: a handshake that fails (TLS spoken to a plain HTTP port)', async () => {
    const h = await eightDecrypts(kmsClientSupplier({ endpoint: kms.url.replace('http:', 'https:'), credentials: kms.credentials }));
    expect(h).toMatchObject({ breaker: 'open', failures: 3 });
    expect(h.lastError).toMatch(/^(EPROTO|ERR_SSL_.*|ECONNRESET)$/);
  });

  it('socket: the connection dropped (kms-local refuse)', async () => {
    const h = await eightDecrypts(healthy(), { mode: 'refuse' });
    expect(h).toMatchObject({ breaker: 'open', failures: 3 });
    expect(h.lastError).toMatch(/^(ECONNRESET|EPIPE)$/);
  });

  it('5xx: KMSInternalException (kms-local error)', async () => {
    const h = await eightDecrypts(healthy(), { mode: 'error', errorRate: 1 });
    expect(h).toMatchObject({ breaker: 'open', failures: 3, lastError: 'KMSInternalException' });
  });

  it('timeout: a region that never answers (kms-local blackhole): slower than the hedge, then past the call timeout', async () => {
    kms.resetStats();
    const h = await eightDecrypts(healthy(), { mode: 'blackhole' }, 50);
    expect(h).toMatchObject({ breaker: 'open', failures: 3 });
    expect(h.lastError).toMatch(/^(slow|TimeoutError)$/);
    // Open: the last decrypts did not call the blackholed region at all.
    expect(kms.stats()['us-east-1']?.Decrypt).toBe(3);
  });
});

describe('load and refusals do not: the region answered', () => {
  it('throttling (kms-local throttle at 0/s) never opens the breaker', async () => {
    kms.resetStats();
    const h = await eightDecrypts(healthy(), { mode: 'throttle', ratePerSecond: 0 });
    expect(h).toMatchObject({ breaker: 'closed', failures: 0 });
    // It was called and throttled (the pacer learned so), and kept being tried: more calls than
    // the 3 after which an open breaker would have stopped them (some decrypts were won by the
    // secondary while the primary's call waited for a token).
    expect(kms.stats()['us-east-1']?.Decrypt).toBeGreaterThan(3);
    expect(h.pace).toMatchObject({ learned: true });
  });

  it('a key’s refusal: DisabledException', async () => {
    const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
    await admin.send(new DisableKeyCommand({ KeyId: keys[0] }));
    try {
      const h = await eightDecrypts(healthy());
      expect(h).toMatchObject({ breaker: 'closed', failures: 0 });
    } finally {
      await admin.send(new EnableKeyCommand({ KeyId: keys[0] }));
    }
  });

  it('a request’s refusal: a bad signature (wrong secret key)', async () => {
    const h = await eightDecrypts(
      kmsClientSupplier({ endpoint: kms.url, credentials: { ...kms.credentials, secretAccessKey: 'not-the-secret' } }),
    );
    expect(h).toMatchObject({ breaker: 'closed', failures: 0 });
  });
});
