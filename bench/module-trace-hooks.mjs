// Load hook for module-trace.mjs: appends "esm <url>" for every ES module the process loads.
import { appendFileSync } from 'node:fs';

let file;
export function initialize(data) {
  file = data.file;
}

export async function load(url, context, next) {
  const r = await next(url, context);
  if (r.format === 'module' && url.startsWith('file:')) appendFileSync(file, `esm ${url}\n`);
  return r;
}
