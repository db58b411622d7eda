/** Shared test helpers: an SDK client for a kms-local, raw and hand-signed HTTP requests. */
import { request } from 'node:http';
import { KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { signRequest, type KmsLocal, type KmsLocalClock } from '../src/index.js';

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
 * A fake {@link KmsLocalClock}: time moves only by {@link FakeClock.advance}, which fires the
 * timers that fall due, in order. {@link FakeClock.nextTimer} resolves when code under test sets
 * a timer (an event, not a sleep: e.g. a request that reached its latency delay).
 */
export class FakeClock implements KmsLocalClock {
  #now = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #waiting: (() => void)[] = [];

  now = (): number => this.#now;

  setTimer = (ms: number, fn: () => void): (() => void) => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + ms, fn });
    for (const w of this.#waiting.splice(0)) w();
    return () => this.#timers.delete(id);
  };

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Resolves at the next setTimer call. */
  nextTimer(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Moves time forward by `ms`, firing each timer that falls due (earliest first). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = end;
  }
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
