/**
 * The server: AWS JSON 1.1 (`POST /`, `X-Amz-Target: TrentService.<Operation>`), SigV4-checked,
 * one port for every region (the region comes from the signature's credential scope), fault
 * injection and quotas per region, and the admin API under `/_admin/` for loopback clients.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KmsError, internal } from './errors.js';
import { OPERATIONS, type Json } from './operations/index.js';
import { KeyStore } from './store.js';
import { StateFile } from './persistence.js';
import { verifySigV4, type Credentials } from './sigv4.js';
import { parseFault, type Fault } from './faults.js';
import { RegionControls } from './controls.js';
import { systemClock, type KmsLocalClock } from './clock.js';
import { handleAdmin, isLoopback } from './admin.js';
import { EnvelopeError, invalidArgument } from '@envelope/core';
import { BodyTooLargeError, readBody, sendError, sendJson } from './http.js';

/** The AWS documentation's example key pair: not a real credential, printed at start by the CLI. */
export const DEFAULT_CREDENTIALS: Readonly<Credentials> = Object.freeze({
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
});
/** Regions served when none are given. */
export const DEFAULT_REGIONS: readonly string[] = Object.freeze(['us-east-1', 'us-west-2', 'eu-west-1']);
/** Default account id in ARNs (the AWS documentation's example account). */
export const DEFAULT_ACCOUNT_ID = '111122223333';
/** Largest request body accepted: KMS requests are small (a 6 KiB blob is ~8 KiB of JSON). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Options of {@link startKmsLocal}. */
export interface KmsLocalOptions {
  /** Regions served (default us-east-1, us-west-2, eu-west-1). */
  regions?: readonly string[];
  /** 0 (default) for an ephemeral port. */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Keep state here across restarts (atomic writes; key material wrapped under a root key). */
  dataDir?: string;
  /** Accepted key pairs (default {@link DEFAULT_CREDENTIALS}); the first is reported as `credentials`. */
  credentials?: Credentials | readonly Credentials[];
  /** Account id in ARNs (default 111122223333). */
  accountId?: string;
  /** Per-region request-rate quotas in requests per second; ThrottlingException past them. */
  quotas?: Readonly<Record<string, number>>;
  /** When set, admin requests must carry it in `x-admin-token` (besides being loopback, without Origin). */
  adminToken?: string;
  /** Time for the token buckets and the latency fault (default the system's; tests pass a fake one). */
  clock?: KmsLocalClock;
}

/** A running kms-local. */
export interface KmsLocal {
  /** `http://host:port`: the endpoint for every region. */
  readonly url: string;
  readonly port: number;
  readonly regions: readonly string[];
  /** The key pair clients should sign with. */
  readonly credentials: Credentials;
  readonly accountId: string;
  /** Sets a region's fault (`{ mode: 'none' }` clears it); throws for regions not served or a bad fault. */
  setFault(region: string, fault: Fault): void;
  /** Current faults by region. */
  faults(): Record<string, Fault>;
  /** Requests by region and operation. */
  stats(): Record<string, Record<string, number>>;
  resetStats(): void;
  /** Clears faults and stats. */
  reset(): void;
  /** Stops listening, ends every socket (blackholed ones too) and pending delay, flushes state. */
  close(): Promise<void>;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const TARGET_PREFIX = 'TrentService.';

/** Why listen() failed, in words (never a bare errno). */
function listenError(e: unknown, host: string, port: number): EnvelopeError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const why: Record<string, string> = {
    EADDRINUSE: 'the port is in use; choose another with --port (0 picks a free one)',
    EACCES: 'permission denied; ports below 1024 need privileges',
    EADDRNOTAVAIL: 'no such interface on this machine',
    ENOTFOUND: 'the host name does not resolve',
  };
  return new EnvelopeError('ENVELOPE_CONFIG', `kms-local: cannot listen on ${host}:${port} (${code}${why[code] ? `: ${why[code]}` : ''})`, {
    cause: e,
  });
}

/** True for an interface only this machine reaches: 127.0.0.0/8, ::1 or `localhost`. */
function loopbackBind(host: string): boolean {
  return host === 'localhost' || isLoopback(host);
}

function checkOptions(o: KmsLocalOptions): { regions: string[]; creds: Credentials[]; accountId: string; host: string } {
  const regions = o.regions?.length ? [...new Set(o.regions)] : [...DEFAULT_REGIONS];
  for (const r of regions) if (!REGION.test(r)) throw invalidArgument('regions', `${JSON.stringify(r)} is not a region name`);
  const creds =
    o.credentials === undefined
      ? [DEFAULT_CREDENTIALS]
      : Array.isArray(o.credentials)
        ? [...(o.credentials as Credentials[])]
        : [o.credentials as Credentials];
  if (creds.length === 0 || creds.some((c) => !c.accessKeyId || !c.secretAccessKey))
    throw invalidArgument('credentials', 'each needs accessKeyId and secretAccessKey');
  const accountId = o.accountId ?? DEFAULT_ACCOUNT_ID;
  if (!/^\d{12}$/.test(accountId)) throw invalidArgument('accountId', 'expected 12 digits');
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535))
    throw invalidArgument('port', 'expected 0..65535');
  const host = o.host ?? '127.0.0.1';
  // The documentation pair is public: on an interface others reach, anyone could sign with it.
  if (!loopbackBind(host) && creds.some((c) => c.accessKeyId === DEFAULT_CREDENTIALS.accessKeyId)) {
    throw new EnvelopeError(
      'ENVELOPE_CONFIG',
      `host: ${host} is not a loopback interface, and the AWS documentation's example credentials are public: ` +
        'give your own credentials (--access-key-id and --secret-access-key) to serve beyond this machine',
    );
  }
  if (o.adminToken !== undefined && (typeof o.adminToken !== 'string' || o.adminToken.length < 8))
    throw invalidArgument('adminToken', 'expected a string of at least 8 characters');
  return { regions, creds, accountId, host };
}

/**
 * Starts kms-local.
 *
 * @example
 * ```ts
 * const kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
 * const client = new KMSClient({ region: 'eu-west-1', endpoint: kms.url, credentials: kms.credentials });
 * kms.setFault('us-east-1', { mode: 'blackhole' });
 * await kms.close();
 * ```
 */
export async function startKmsLocal(options: KmsLocalOptions = {}): Promise<KmsLocal> {
  const { regions, creds, accountId, host } = checkOptions(options);
  const clock = options.clock ?? systemClock;
  let controls: RegionControls;
  try {
    controls = new RegionControls(regions, options.quotas, clock);
  } catch (e) {
    throw invalidArgument('quotas', (e as Error).message);
  }
  const file = options.dataDir === undefined ? undefined : await StateFile.open(options.dataDir);
  const store = await KeyStore.open(regions, accountId, file);
  const sockets = new Set<Socket>();
  const delays = new Set<() => void>();
  let closing: Promise<void> | undefined;

  /** A delay that close() ends early (so no timer outlives the server). */
  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        cancel();
        delays.delete(done);
        resolve();
      };
      const cancel = clock.setTimer(ms, done);
      delays.add(done);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    if (path.startsWith('/_admin/')) return handleAdmin(req, res, path, controls, options.adminToken);

    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (e) {
      // The rest of an oversized body is never read: answer, then drop the connection.
      res.shouldKeepAlive = false;
      res.once('finish', () => req.socket.destroy());
      return sendError(
        res,
        e instanceof BodyTooLargeError ? e : new KmsError('SerializationException', 'Could not read the request body.'),
      );
    }
    let region: string;
    try {
      if (req.method !== 'POST') throw new KmsError('UnknownOperationException', 'kms-local answers POST requests only.');
      // AWS SDKs and CLIs send no Origin; a browser always does on a POST. The documentation
      // credentials are public, so a web page (or a DNS-rebound one) could otherwise sign requests.
      if (req.headers.origin !== undefined)
        throw new KmsError('AccessDeniedException', 'kms-local does not serve browsers (a request with an Origin header).');
      const signedRequest = { method: req.method, path, query: q < 0 ? '' : rawUrl.slice(q + 1), headers: req.headers, body };
      region = (await verifySigV4(signedRequest, creds)).region;
      if (!store.serves(region))
        throw new KmsError(
          'InvalidSignatureException',
          `Credential should be scoped to a valid region; kms-local serves ${regions.join(', ')}.`,
        );
    } catch (e) {
      return sendError(res, e instanceof KmsError ? e : internal());
    }

    const target = req.headers['x-amz-target'];
    const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const operation = OPERATIONS[name];
    controls.count(region, operation ? name : 'UnknownOperation');

    const fault = controls.fault(region);
    if (fault?.mode === 'latency' && fault.latencyMs) {
      await delay(fault.latencyMs);
      if (closing) return; // close() cut the delay short: the socket is gone
    }
    switch (controls.admit(region)) {
      case 'blackhole':
        return; // never answered; close() or the client's own timeout ends the socket
      case 'refuse':
        req.socket.destroy();
        return;
      case 'error':
        return sendError(res, new KmsError('KMSInternalException', 'Injected fault: internal error.', 500));
      case 'throttle':
        return sendError(res, new KmsError('ThrottlingException', 'Rate exceeded'));
      case 'serve':
        break;
    }
    if (!operation)
      return sendError(res, new KmsError('UnknownOperationException', `Unknown operation ${String(target ?? '').slice(0, 100)}`));

    let input: Json;
    try {
      const parsed: unknown = body.byteLength ? JSON.parse(body.toString('utf8')) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Json;
    } catch {
      return sendError(res, new KmsError('SerializationException', 'Start of structure or map found where not expected.'));
    }
    try {
      sendJson(res, 200, await operation(store, region, input));
    } catch (e) {
      sendError(res, e instanceof KmsError ? e : internal());
    }
  };

  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    handle(req, res).catch(() => sendError(res, internal()));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  // A malformed request line or headers: answer 400 and drop the connection (Node's default does too).
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(listenError(e, host, options.port ?? 0)));
    server.listen(options.port ?? 0, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // A wildcard bind is reached through loopback by local clients.
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    regions,
    // A fresh, mutable object: the AWS SDK annotates the credentials object it is given.
    credentials: { accessKeyId: creds[0]!.accessKeyId, secretAccessKey: creds[0]!.secretAccessKey },
    accountId,
    setFault: (region, fault) => {
      try {
        controls.setFault(region, parseFault(fault));
      } catch (e) {
        throw invalidArgument('setFault', (e as Error).message);
      }
    },
    faults: () => controls.faults(),
    stats: () => controls.stats(),
    resetStats: () => controls.resetStats(),
    reset: () => {
      controls.resetStats();
      controls.resetFaults();
    },
    close() {
      closing ??= (async () => {
        for (const end of [...delays]) end();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
        await store.flush();
      })();
      return closing;
    },
  };
}
