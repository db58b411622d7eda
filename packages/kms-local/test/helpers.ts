/** Shared test helpers: an SDK client for a kms-local, raw and hand-signed HTTP requests. */
import { request } from 'node:http';
import { KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ManualClock } from '@envelope/keyring-kms';
import { signRequest, type KmsLocal } from '../src/index.js';

/** A KMSClient pointed at kms-local: no retries, and a request timeout that throws. */
export function client(
  kms: KmsLocal,
  region: string,
  opts: { requestTimeout?: number; secret?: string; accessKeyId?: string; maxAttempts?: number } = {},
): KMSClient {
  return new KMSClient({
    region,
    endpoint: kms.url,
    credentials: {
      accessKeyId: opts.accessKeyId ?? kms.credentials.accessKeyId,
      secretAccessKey: opts.secret ?? kms.credentials.secretAccessKey,
    },
    maxAttempts: opts.maxAttempts ?? 1,
    // The SDK only warns on a request timeout unless told to throw: without this a silent
    // endpoint hangs the call forever.
    requestHandler: new NodeHttpHandler({
      requestTimeout: opts.requestTimeout ?? 5000,
      connectionTimeout: 2000,
      throwOnRequestTimeout: true,
    }),
  });
}

/** "ExceptionName status" of a rejected SDK call, or "no error". */
export const errName = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'no error',
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode ?? ''}`.trim(),
  );

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request to kms-local (for hand-made, hostile requests and the admin API). */
export function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; path?: string },
): Promise<RawResponse> {
  const u = new URL(opts.path ?? '/', url);
  return new Promise((resolve, reject) => {
    const r = request(u, { method: opts.method ?? 'POST', headers: opts.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}

/**
 * A request signed with SigV4 by {@link signRequest} (the one signer: @smithy/signature-v4, as the
 * AWS SDK), with knobs to break it: another date, region, service or secret, extra headers,
 * headers left out of the signature (`unsigned`), headers changed (`override`) or dropped
 * (`drop`) after signing, or a body swapped after signing.
 */
export async function signed(
  kms: KmsLocal,
  body: string,
  opts: {
    region?: string;
    date?: Date;
    target?: string;
    service?: string;
    secret?: string;
    accessKeyId?: string;
    extraHeaders?: Record<string, string>;
    unsigned?: string[];
    override?: Record<string, string>;
    sendBody?: string;
    drop?: string[];
  } = {},
): Promise<RawResponse> {
  const u = new URL(kms.url);
  const headers = await signRequest(
    {
      host: u.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': opts.target ?? 'TrentService.ListKeys',
      ...opts.extraHeaders,
    },
    body,
    { accessKeyId: opts.accessKeyId ?? kms.credentials.accessKeyId, secretAccessKey: opts.secret ?? kms.credentials.secretAccessKey },
    { region: opts.region ?? 'us-east-1', date: opts.date, service: opts.service, unsigned: opts.unsigned },
  );
  Object.assign(headers, opts.override);
  for (const d of opts.drop ?? []) delete headers[d];
  return raw(kms.url, { headers, body: opts.sendBody ?? body });
}

/** The header list an Authorization header signs. */
export const signedHeadersOf = (authorization: string): string[] => /SignedHeaders=([^,\s]+)/.exec(authorization)![1]!.split(';');

/** The parsed `__type` of a raw error response. */
export const typeOf = (r: RawResponse): string => (JSON.parse(r.body) as { __type: string }).__type;

/**
 * Resolves when code under test next sets a timer on `clock` (an event, not a sleep: e.g. a
 * request that reached its latency delay). keyring-kms's ManualClock is the fake clock; kms-local
 * takes any `{ now, setTimer }`.
 */
export function nextTimer(clock: ManualClock): Promise<void> {
  const setTimer = clock.setTimer;
  return new Promise((resolve) => {
    clock.setTimer = (ms, fn) => {
      clock.setTimer = setTimer;
      const cancel = setTimer.call(clock, ms, fn);
      resolve();
      return cancel;
    };
  });
}

/** A promise with a flag saying whether it has settled yet (to assert "not answered"). */
export function tracked<T>(p: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false;
  const promise = p.finally(() => {
    settled = true;
  });
  promise.catch(() => undefined);
  return {
    promise,
    get settled() {
      return settled;
    },
  };
}
