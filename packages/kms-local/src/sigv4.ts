/**
 * AWS Signature Version 4 verification for incoming requests (the algorithm is public: AWS
 * General Reference, "Signature Version 4 signing process"). The region is taken from the
 * credential scope, so one port serves every region.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KmsError } from './errors.js';

/** An access key pair kms-local accepts (test credentials, not AWS ones). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The parts of an HTTP request a SigV4 signature covers. */
export interface SignedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Allowed clock difference between the request's X-Amz-Date and now (as the real service: 15 minutes). */
export const MAX_SKEW_MS = 15 * 60 * 1000;

/** Derived signing keys by secret, day, region and service: four HMACs saved per request. Bounded. */
const keyCache = new Map<string, Buffer>();
const MAX_CACHED_KEYS = 1000;

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let k = keyCache.get(id);
  if (!k) {
    k = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    keyCache.set(id, k);
  }
  return k;
}

/** 20261123T084500Z from epoch milliseconds. */
function amzStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

const NEEDS_FOLDING = /^\s|\s$|\s\s|[\t\r\n]/;

function header(h: SignedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(q: string): string {
  if (!q) return '';
  return q
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = decodeURIComponent(i < 0 ? p : p.slice(0, i));
      const v = i < 0 ? '' : decodeURIComponent(p.slice(i + 1));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Verifies the request's signature; returns the access key and the region of the credential
 * scope. Throws KMS-named errors as the real service would.
 */
export function verifySigV4(
  req: SignedRequest,
  credentials: readonly Credentials[],
  now = Date.now(),
): { accessKeyId: string; region: string } {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      auth.trim(),
    );
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
  if (service !== 'kms') throw new KmsError('InvalidSignatureException', `Credential should be scoped to correct service: 'kms'.`);
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
  if (names.length > 64) throw new KmsError('InvalidSignatureException', 'Too many signed headers.');
  if (!names.includes('host')) throw new KmsError('InvalidSignatureException', "'Host' must be a signed header.");
  const canonicalHeaders = names
    .map((n) => {
      const v = header(req.headers, n);
      if (v === undefined) throw new KmsError('InvalidSignatureException', `Signed header ${n} is missing.`);
      // Canonical values are trimmed with inner runs of spaces folded; most need neither.
      return `${n}:${NEEDS_FOLDING.test(v) ? v.trim().replace(/\s+/g, ' ') : v}\n`;
    })
    .join('');
  const payloadHash = createHash('sha256').update(req.body).digest('hex');
  const declaredHash = header(req.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== payloadHash) {
    throw new KmsError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  let query: string;
  try {
    query = canonicalQuery(req.query);
  } catch {
    throw new KmsError('InvalidSignatureException', 'The query string is not well-formed.');
  }
  const canonicalRequest = [req.method, req.path || '/', query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const expected = createHmac('sha256', signingKey(cred.secretAccessKey, date, region, service))
    .update(toSign)
    .digest();
  const given = Buffer.from(signature, 'hex');
  if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
    throw new KmsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { accessKeyId: akid, region };
}
