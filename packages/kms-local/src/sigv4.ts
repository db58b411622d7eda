/**
 * AWS Signature Version 4 for kms-local (the algorithm is public: AWS General Reference,
 * "Signature Version 4 signing process"). Verification re-signs the request with
 * `@smithy/signature-v4`, the signer the AWS SDK for JavaScript itself uses, so the project keeps
 * one SigV4 implementation: this module only parses the Authorization header, enforces which
 * headers must be signed and the time window, and compares the result in constant time. The
 * region comes from the credential scope, so one port serves every region.
 */
import crypto, { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { KmsError } from './errors.js';

/** An access key pair kms-local accepts (test credentials, not AWS ones). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The parts of an HTTP request a SigV4 signature covers. */
export interface SignedRequest {
  method: string;
  /** The path as sent on the wire (still percent-encoded). */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** Lower-case header names (as node:http gives them). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Allowed clock difference between the request's X-Amz-Date and now (as the real service: 15 minutes). */
export const MAX_SKEW_MS = 15 * 60 * 1000;

/** The service name in kms-local's credential scopes. */
const SERVICE = 'kms';

/** `crypto.hash` (Node 20.12+): a one-shot digest without a Hash object; absent on 20.11. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'buffer') => Buffer }).hash;

/**
 * SHA-256 and HMAC-SHA-256 from node:crypto in the shape `@smithy/signature-v4` takes (its
 * `Checksum` constructor: `new (secret?)`, `update`, `digest(): Promise<Uint8Array>`). The signer
 * hashes each input in one `update`, so an unkeyed digest of one part is a one-shot `crypto.hash`
 * (a fifth less CPU per verified request than a Hash object each time).
 */
class NodeSha256 {
  readonly #secret: string | Uint8Array | undefined;
  readonly #parts: (string | Uint8Array)[] = [];
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined ? undefined : toBytes(secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#parts.push(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    if (this.#secret === undefined && this.#parts.length === 1 && oneShot)
      return Promise.resolve(oneShot('sha256', this.#parts[0]!, 'buffer'));
    const h: Hash | Hmac = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
    for (const p of this.#parts) h.update(p);
    return Promise.resolve(h.digest());
  }
}

function toBytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === 'string') return d;
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new Uint8Array(d);
}

/** One signer per secret (the signer caches derived keys by day, region and service). Bounded. */
const signers = new Map<string, SignatureV4>();
const MAX_SIGNERS = 100;

function signerFor(c: Credentials): SignatureV4 {
  const id = `${c.accessKeyId}\n${c.secretAccessKey}`;
  let s = signers.get(id);
  if (!s) {
    s = new SignatureV4({
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
      region: 'us-east-1', // every call names its region
      service: SERVICE,
      sha256: NodeSha256,
      // KMS clients do not send x-amz-content-sha256; when one does, it is a header like any other.
      applyChecksum: false,
    });
    if (signers.size >= MAX_SIGNERS) signers.clear();
    signers.set(id, s);
  }
  return s;
}

/** The request shape `@smithy/signature-v4` signs (structurally its `HttpRequest`). */
interface Signable {
  method: string;
  protocol: string;
  hostname: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

/** `Signature=` of an Authorization header the signer produced. */
function signatureOf(authorization: string | undefined): Buffer {
  const i = authorization?.lastIndexOf('Signature=') ?? -1;
  return Buffer.from(i < 0 ? '' : authorization!.slice(i + 'Signature='.length), 'hex');
}

/**
 * Signs a request for kms-local with SigV4, the same way the AWS SDK does (and with the signer
 * the verifier re-signs with). For tests, benchmarks and hand-made clients: `unsigned` names
 * headers to leave out of the signature, to build requests the verifier must refuse.
 *
 * @returns the headers to send: the given ones plus `x-amz-date` and `authorization`.
 * @example
 * ```ts
 * const headers = await signRequest(
 *   { host: '127.0.0.1:4566', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' },
 *   '{}', kms.credentials, { region: 'us-east-1' });
 * ```
 */
export async function signRequest(
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array,
  credentials: Credentials,
  options: { region: string; date?: Date; service?: string; path?: string; unsigned?: readonly string[] },
): Promise<Record<string, string>> {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const signed = await signerFor(credentials).sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: (lower.host ?? '').replace(/:\d+$/, ''),
      path: options.path ?? '/',
      query: {},
      headers: lower,
      body,
    } satisfies Signable,
    {
      signingDate: options.date ?? new Date(),
      signingRegion: options.region,
      signingService: options.service ?? SERVICE,
      unsignableHeaders: new Set(options.unsigned ?? []),
    },
  );
  return signed.headers;
}

function header(h: SignedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  // Repeated headers: their values joined with commas (SigV4 "canonical headers").
  return Array.isArray(v) ? v.join(',') : v;
}

/** The query string as the signer takes it: decoded names and values, repeats as lists. */
function queryRecord(q: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const part of q.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
    const v = i < 0 ? '' : decodeURIComponent(part.slice(i + 1));
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** 20261123T084500Z from epoch milliseconds. */
function amzStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const MAX_SIGNED_HEADERS = 64;

/**
 * Headers a signature must cover when the request carries them, whatever the client chose to
 * sign: without this, a captured request could be re-targeted (X-Amz-Target) or re-typed.
 * Besides these, every `x-amz-*` header present must be signed.
 */
const MUST_SIGN = ['host', 'content-type', 'x-amz-date', 'x-amz-target'] as const;

function mustBeSigned(name: string): boolean {
  return (MUST_SIGN as readonly string[]).includes(name) || name.startsWith('x-amz-');
}

/**
 * Verifies the request's signature; returns the access key and the region of the credential
 * scope. Throws KMS-named errors as the real service would:
 * MissingAuthenticationTokenException, IncompleteSignatureException, UnrecognizedClientException
 * or InvalidSignatureException.
 *
 * Beyond the signature itself: `host` and `x-amz-date` must be present, and `host`,
 * `content-type`, `x-amz-date`, `x-amz-target` and every other `x-amz-*` header present must be
 * among the signed headers; X-Amz-Date must be within ±15 minutes of `now`.
 */
export async function verifySigV4(
  req: SignedRequest,
  credentials: readonly Credentials[],
  now = Date.now(),
): Promise<{ accessKeyId: string; region: string }> {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
  const m = AUTH.exec(auth.trim());
  if (!m)
    throw new KmsError('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature parameters.');
  const [, akid, date, region, service, signedHeaders, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const amzDate = header(req.headers, 'x-amz-date');
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate))
    throw new KmsError('IncompleteSignatureException', 'Authorization header requires existence of either a X-Amz-Date or a Date header.');
  if (!amzDate.startsWith(date)) throw new KmsError('InvalidSignatureException', 'Credential date does not match X-Amz-Date.');
  if (service !== SERVICE) throw new KmsError('InvalidSignatureException', `Credential should be scoped to correct service: '${SERVICE}'.`);
  const when = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  );
  // The service's own wording (InvalidSignatureException, HTTP 400) for both sides of the window.
  if (now - when > MAX_SKEW_MS) {
    throw new KmsError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${amzStamp(now - MAX_SKEW_MS)} (${amzStamp(now)} - 15 min.)`,
    );
  }
  if (when - now > MAX_SKEW_MS) {
    throw new KmsError(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${amzStamp(now + MAX_SKEW_MS)} (${amzStamp(now)} + 15 min.)`,
    );
  }
  const cred = credentials.find((c) => c.accessKeyId === akid);
  if (!cred) throw new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');

  const names = signedHeaders.split(';');
  if (names.length > MAX_SIGNED_HEADERS) throw new KmsError('InvalidSignatureException', 'Too many signed headers.');
  const signedSet = new Set(names);
  for (const n of names) {
    if (!HEADER_NAME.test(n) || n === 'authorization')
      throw new KmsError('InvalidSignatureException', `SignedHeaders names an invalid header ${JSON.stringify(n.slice(0, 64))}.`);
  }
  if (!signedSet.has('host')) throw new KmsError('InvalidSignatureException', "'Host' must be a signed header.");
  for (const n of Object.keys(req.headers)) {
    if (mustBeSigned(n) && !signedSet.has(n) && req.headers[n] !== undefined)
      throw new KmsError('InvalidSignatureException', `'${n}' must be a signed header.`);
  }
  const toSign: Record<string, string> = {};
  for (const n of names) {
    const v = header(req.headers, n);
    if (v === undefined) throw new KmsError('InvalidSignatureException', `Signed header ${n} is missing.`);
    toSign[n] = v;
  }

  const declaredHash = header(req.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(req.body).digest('hex')) {
    throw new KmsError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  let query: Record<string, string | string[]>;
  try {
    query = queryRecord(req.query);
  } catch {
    throw new KmsError('InvalidSignatureException', 'The query string is not well-formed.');
  }

  // Re-sign exactly the headers the client signed (signableHeaders: even ones the signer would
  // skip by default, e.g. user-agent), at the client's time, region and scope.
  const resigned = await signerFor(cred).sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: (toSign.host ?? '').replace(/:\d+$/, ''),
      path: req.path || '/',
      query,
      headers: toSign,
      body: req.body,
    } satisfies Signable,
    { signingDate: new Date(when), signingRegion: region, signingService: service, signableHeaders: signedSet },
  );
  const expected = signatureOf(resigned.headers.authorization);
  const given = Buffer.from(signature, 'hex');
  if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
    throw new KmsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { accessKeyId: akid, region };
}
