/**
 * The admin API on the service port, under `/_admin/`, for loopback clients only:
 *
 *   GET  /_admin/stats            → {"<region>":{"<Operation>":count}}
 *   GET  /_admin/faults           → {"<region>":{"mode":…}}
 *   PUT  /_admin/faults/<region>  ← {"mode":…,"latencyMs":N,"ratePerSecond":N,"errorRate":0..1}
 *   POST /_admin/reset-stats
 *   POST /_admin/reset            (stats and faults)
 */
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

/** Serves one admin request. */
export async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, controls: RegionControls): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) {
    sendJson(res, 403, { __type: 'AccessDeniedException', message: 'The admin API serves loopback clients only.' });
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
