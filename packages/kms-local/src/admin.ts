/**
 * The admin API on the service port, under `/_admin/`, for loopback clients only, and never for a
 * browser: a request with an `Origin` header (any cross-site or scripted browser request) or a
 * `Host` that is not a loopback name (DNS rebinding: evil.example resolved to 127.0.0.1) is
 * refused; with an admin token, `x-admin-token` must carry it.
 *
 *   GET  /_admin/stats            → {"<region>":{"<Operation>":count}}
 *   GET  /_admin/faults           → {"<region>":{"mode":…}}
 *   PUT  /_admin/faults/<region>  ← {"mode":…,"latencyMs":N,"ratePerSecond":N,"errorRate":0..1}
 *   POST /_admin/reset-stats
 *   POST /_admin/reset            (stats and faults)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseFault } from './faults.js';
import type { RegionControls } from './controls.js';
import { readBody, sendJson } from './http.js';

/** Largest admin request body. */
const MAX_ADMIN_BODY = 4096;

/**
 * True for loopback peers only: IPv4 127.0.0.0/8, IPv6 ::1, and IPv4-mapped loopback
 * (::ffff:127.x.y.z). The admin API can blackhole a region, so nothing else may reach it.
 */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * True for a `Host` header that names this machine by a loopback name: `localhost`, 127.0.0.0/8
 * or `[::1]`, with or without a port. A browser sends the name it resolved, so a page of
 * evil.example that DNS-rebinds to 127.0.0.1 still says `Host: evil.example`.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  let name: string;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0 || !/^(?::\d{1,5})?$/.test(h.slice(end + 1))) return false;
    name = h.slice(1, end);
  } else {
    const m = /^([^:]+)(?::\d{1,5})?$/.exec(h);
    if (!m) return false;
    name = m[1]!;
  }
  return name === 'localhost' || isLoopback(name);
}

/** Constant-time equality of two secrets of any length (their SHA-256 digests are compared). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Why an admin request is refused (status and message), or undefined when it may proceed. */
export function adminRefusal(req: IncomingMessage, adminToken: string | undefined): { status: number; message: string } | undefined {
  if (!isLoopback(req.socket.remoteAddress)) return { status: 403, message: 'The admin API serves loopback clients only.' };
  if (req.headers.origin !== undefined)
    return { status: 403, message: 'The admin API refuses requests with an Origin header (browsers: cross-site requests).' };
  const host = req.headers.host;
  if (!isLoopbackHost(host))
    return { status: 403, message: 'The admin API answers only a loopback Host (localhost, 127.0.0.1, [::1]); DNS rebinding is refused.' };
  if (adminToken !== undefined) {
    const given = req.headers['x-admin-token'];
    if (typeof given !== 'string' || !sameSecret(given, adminToken))
      return { status: 401, message: 'The admin API needs the x-admin-token header kms-local was started with.' };
  }
  return undefined;
}

/** Serves one admin request. */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  controls: RegionControls,
  adminToken?: string,
): Promise<void> {
  const refused = adminRefusal(req, adminToken);
  if (refused) {
    sendJson(res, refused.status, { __type: 'AccessDeniedException', message: refused.message });
    return;
  }
  const route = `${req.method} ${path}`;
  switch (route) {
    case 'GET /_admin/stats':
      return sendJson(res, 200, controls.stats());
    case 'GET /_admin/faults':
      return sendJson(res, 200, controls.faults());
    case 'POST /_admin/reset-stats':
      controls.resetStats();
      return sendJson(res, 200, {});
    case 'POST /_admin/reset':
      controls.resetStats();
      controls.resetFaults();
      return sendJson(res, 200, {});
  }
  const m = /^PUT \/_admin\/faults\/([a-z0-9-]{1,32})$/.exec(route);
  if (!m) return sendJson(res, 404, { message: `no admin route ${route.slice(0, 200)}` });
  const region = m[1]!;
  let fault;
  try {
    const body = await readBody(req, MAX_ADMIN_BODY);
    fault = parseFault(JSON.parse(body.toString('utf8') || '{}'));
  } catch (e) {
    return sendJson(res, 400, { message: `bad fault: ${(e as Error).message}` });
  }
  try {
    controls.setFault(region, fault);
  } catch (e) {
    return sendJson(res, 404, { message: (e as Error).message });
  }
  sendJson(res, 200, controls.faults()[region] ?? { mode: 'none' });
}
