/**
 * DynamoDB calls have a deadline and the caller's AbortSignal: a DynamoDB that accepts the
 * connection and never answers fails the read in bounded time (a coded error naming the branch
 * key), and an abort ends the HTTP request. Endpoints from the standard variables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { isEnvelopeError } from '@envelope/core';
import { kmsClientSupplier } from '@envelope/keyring-kms';
import { HealthRegistry } from '@envelope/keyring-multi-region';
import { BranchKeyStore, dynamoDbClientSupplier, endpointFromEnv } from '../src/index.js';

let silent: Server;
const sockets: Socket[] = [];
let url: string;
beforeAll(async () => {
  // Reads the request, never answers: a blackholed DynamoDB.
  silent = createServer((s) => {
    sockets.push(s);
    s.resume();
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

const store = () =>
  new BranchKeyStore({
    tableName: 'keys',
    logicalKeyStoreName: 'keys',
    kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
    kms: kmsClientSupplier({ endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    dynamoDb: dynamoDbClientSupplier({ endpoint: url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestTimeoutMs: 60_000 }),
    health: new HealthRegistry(),
    callTimeoutMs: 150,
    maxRetries: 0,
    deadlineMs: 10_000,
  });

describe('deadlines and aborts', () => {
  it('a DynamoDB that never answers: the attempt deadline ends the read with a coded error naming the branch key', async () => {
    const e = await store()
      .getActiveBranchKey('tenant-1')
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect(isEnvelopeError(e, 'ENVELOPE_KEY_STORE')).toBe(true);
    expect((e as { message: string }).message).toMatch(
      /^branch key "tenant-1": DynamoDB GetItem on "keys" in us-east-1 failed: TimeoutError/,
    );
  });

  it('the caller’s abort ends the request (the socket closes) with ENVELOPE_ABORTED', async () => {
    const before = sockets.length;
    const ctl = new AbortController();
    const read = store()
      .getActiveBranchKey('tenant-1', { signal: ctl.signal })
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    while (sockets.length === before) await once(silent, 'connection');
    const closed = once(sockets.at(-1)!, 'close');
    ctl.abort();
    expect(isEnvelopeError(await read, 'ENVELOPE_ABORTED')).toBe(true);
    await closed;
  });
});

describe('clients', () => {
  it('AWS_ENDPOINT_URL_DYNAMODB / _KMS first, then AWS_ENDPOINT_URL; none when the SDK is told to ignore them', () => {
    const env = { AWS_ENDPOINT_URL: 'http://all', AWS_ENDPOINT_URL_DYNAMODB: 'http://ddb' };
    expect([endpointFromEnv(env, 'DYNAMODB'), endpointFromEnv(env, 'KMS')]).toEqual(['http://ddb', 'http://all']);
    expect(endpointFromEnv({ ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, 'DYNAMODB')).toBeUndefined();
    expect(endpointFromEnv({}, 'KMS')).toBeUndefined();
  });

  it('the supplier refuses bad settings by name and caches one client per region', () => {
    expect(() => dynamoDbClientSupplier({ endpoint: 'not a url' })).toThrow(/^endpoint/);
    expect(() => dynamoDbClientSupplier({ requestTimeoutMs: 0 })).toThrow(/^requestTimeoutMs/);
    const s = dynamoDbClientSupplier({ endpoint: url });
    expect(s('us-east-1')).toBe(s('us-east-1'));
    expect(s('us-west-2')).not.toBe(s('us-east-1'));
    expect(() => s('')).toThrow(/^region/);
  });
});
