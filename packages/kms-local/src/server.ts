/**
 * The HTTP server: AWS JSON 1.1 (`POST /`, `X-Amz-Target: TrentService.<Operation>`), SigV4
 * checked, one port for every region (the region comes from the credential scope), fault
 * injection per region, and an admin API under `/_admin/` for loopback clients.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KmsError } from './errors.js';
import { OPERATIONS } from './operations.js';
import { KeyStore } from './store.js';
import { verifySigV4, type Credentials } from './sigv4.js';
import { TokenBucket, parseFault, type Fault } from './faults.js';

/** The usual documentation test pair (not a real credential). */
export const DEFAULT_CREDENTIALS: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
export const DEFAULT_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
/** Largest request body accepted (KMS requests are small: a 4 KiB plaintext is ~5.5 KiB in JSON). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface KmsLocalOptions {
  regions?: string[];
  /** 0 (default) for an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  dataDir?: string;
  credentials?: Credentials | Credentials[];
  accountId?: string;
  /** Per-region request-rate quotas (requests per second); ThrottlingException past them. */
  quotas?: Record<string, number>;
}

export interface KmsLocal {
  readonly url: string;
  readonly port: number;
  readonly regions: readonly string[];
  readonly credentials: Credentials;
  readonly accountId: string;
  setFault(region: string, fault: Fault): void;
  faults(): Record<string, Fault>;
  stats(): Record<string, Record<string, number>>;
  resetStats(): void;
  close(): Promise<void>;
}

/** Loopback addresses only (IPv4 127/8, IPv6 ::1, and IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID() });
  res.end(text);
}

function sendError(res: ServerResponse, e: KmsError): void {
  res.setHeader('x-amzn-errortype', e.type);
  send(res, e.status, { __type: e.type, message: e.message });
}

/** Reads a body up to `max` bytes; past that, stops reading and rejects. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return reject(new KmsError('ValidationException', `Request body exceeds ${max} bytes`, 413));
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.byteLength;
      if (n > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new KmsError('ValidationException', `Request body exceeds ${max} bytes`, 413));
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/**
 * Starts kms-local.
 *
 * @example
 * ```ts
 * const kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
 * const client = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: kms.credentials });
 * ...
 * await kms.close();
 * ```
 */
export async function startKmsLocal(options: KmsLocalOptions = {}): Promise<KmsLocal> {
  const regions = options.regions?.length ? [...options.regions] : [...DEFAULT_REGIONS];
  const creds = options.credentials === undefined ? [DEFAULT_CREDENTIALS] : Array.isArray(options.credentials) ? options.credentials : [options.credentials];
  const accountId = options.accountId ?? '111122223333';
  const store = new KeyStore(regions, accountId, options.dataDir);
  await store.load();
  const faults = new Map<string, Fault>();
  const buckets = new Map<string, TokenBucket>();
  const quotas = new Map(Object.entries(options.quotas ?? {}).map(([r, rate]) => [r, new TokenBucket(rate)]));
  const stats = new Map<string, Map<string, number>>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const count = (region: string, op: string): void => {
    let m = stats.get(region);
    if (!m) stats.set(region, (m = new Map()));
    m.set(op, (m.get(op) ?? 0) + 1);
  };

  const admin = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!isLoopback(req.socket.remoteAddress)) {
      send(res, 403, { message: 'the admin API serves loopback clients only' });
      return;
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /_admin/stats') return send(res, 200, api.stats());
    if (route === 'POST /_admin/reset-stats') {
      api.resetStats();
      return send(res, 200, {});
    }
    if (route === 'POST /_admin/reset') {
      api.resetStats();
      faults.clear();
      buckets.clear();
      return send(res, 200, {});
    }
    if (route === 'GET /_admin/faults') return send(res, 200, api.faults());
    const m = /^PUT \/_admin\/faults\/([a-z0-9-]+)$/.exec(route);
    if (m) {
      try {
        const body = await readBody(req, 4096);
        api.setFault(m[1]!, parseFault(JSON.parse(body.toString('utf8') || '{}')));
        return send(res, 200, api.faults()[m[1]!] ?? { mode: 'none' });
      } catch (e) {
        return send(res, 400, { message: (e as Error).message });
      }
    }
    send(res, 404, { message: `no admin route ${route}` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://kms-local');
    if (url.pathname.startsWith('/_admin/')) return admin(req, res, url);
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (e) {
      sendError(res, e instanceof KmsError ? e : new KmsError('SerializationException', 'Could not read the request'));
      res.once('finish', () => req.socket.destroy());
      return;
    }
    let region: string;
    try {
      if (req.method !== 'POST') throw new KmsError('UnknownOperationException', 'Only POST is supported', 400);
      region = verifySigV4({ method: req.method, path: url.pathname, query: url.search.slice(1), headers: req.headers, body }, creds).region;
      if (!regions.includes(region)) throw new KmsError('InvalidSignatureException', `Credential should be scoped to a valid region; kms-local serves ${regions.join(', ')}.`);
    } catch (e) {
      return sendError(res, e as KmsError);
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    count(region, op || 'Unknown');

    const fault = faults.get(region);
    if (fault?.mode === 'blackhole') return; // accept and never answer; close() ends the socket
    if (fault?.mode === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (fault?.mode === 'latency' && fault.latencyMs) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => (timers.delete(t), r()), fault.latencyMs);
        timers.add(t);
      });
    }
    if (fault?.mode === 'error' && Math.random() < (fault.errorRate ?? 1)) {
      return sendError(res, new KmsError('KMSInternalException', 'Injected fault: internal error', 500));
    }
    if (fault?.mode === 'throttle' && !buckets.get(region)?.take()) return sendError(res, new KmsError('ThrottlingException', 'Rate exceeded'));
    if (quotas.get(region) && !quotas.get(region)!.take()) return sendError(res, new KmsError('ThrottlingException', 'Rate exceeded'));

    const operation = OPERATIONS[op];
    if (!operation) return sendError(res, new KmsError('UnknownOperationException', `Unknown operation ${target}`));
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.byteLength ? JSON.parse(body.toString('utf8')) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      return sendError(res, new KmsError('SerializationException', 'Start of structure or map found where not expected.'));
    }
    try {
      send(res, 200, await operation(store, region, input));
    } catch (e) {
      if (e instanceof KmsError) sendError(res, e);
      else sendError(res, new KmsError('KMSInternalException', (e as Error).message, 500));
    }
  };

  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) sendError(res, new KmsError('KMSInternalException', String(e), 500));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = options.host ?? '127.0.0.1';

  const api: KmsLocal = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    regions,
    credentials: creds[0]!,
    accountId,
    setFault(region, fault) {
      if (!regions.includes(region)) throw new Error(`kms-local does not serve region ${region}`);
      if (fault.mode === 'none') faults.delete(region);
      else faults.set(region, { ...fault });
      if (fault.mode === 'throttle') buckets.set(region, new TokenBucket(fault.ratePerSecond ?? 0));
    },
    faults: () => Object.fromEntries(faults),
    stats: () => Object.fromEntries([...stats.entries()].map(([r, m]) => [r, Object.fromEntries(m)])),
    resetStats: () => stats.clear(),
    async close() {
      for (const t of timers) clearTimeout(t);
      server.close();
      for (const s of sockets) s.destroy();
      await store.persist();
    },
  };
  return api;
}
