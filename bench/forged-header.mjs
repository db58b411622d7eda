#!/usr/bin/env node
/**
 * Issue 15.3, the forged-header case: a 16 MiB header (85 EDKs of 3 × 65,535 bytes: within the
 * default EDK limit of 100) streamed into a StreamDecryptor in 4 KiB chunks. Prints the CPU time
 * it costs and how it ended. Not part of npm test (a figure, not a check).
 *
 *   node bench/forged-header.mjs                         this tree's packages/core/dist
 *   node bench/forged-header.mjs --core DIR              another build of core (e.g. an old checkout's dist)
 *   node bench/forged-header.mjs --max-header-length N   raise the header cap (to time a full parse)
 *   node bench/forged-header.mjs --chunk N --edks N      other shapes
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    core: { type: 'string' },
    'max-header-length': { type: 'string' },
    chunk: { type: 'string', default: '4096' },
    edks: { type: 'string', default: '85' },
  },
});
const dist = path.resolve(values.core ?? new URL('../packages/core/dist', import.meta.url).pathname);
const { StreamDecryptor } = await import(pathToFileURL(path.join(dist, 'index.js')).href);

const edks = Number(values.edks);
const chunk = Number(values.chunk);
const n = 0xffff;
const u16 = (v) => Buffer.from([v >> 8, v & 0xff]);
const field = Buffer.alloc(n, 0x61);
const edk = Buffer.concat([u16(n), field, u16(n), field, u16(n), field]);
const header = Buffer.concat([
  Buffer.from([0x02, 0x04, 0x78]),
  Buffer.alloc(32, 7),
  u16(0),
  u16(edks),
  ...new Array(edks).fill(edk),
  Buffer.from([0x02, 0, 0, 0x10, 0]),
  Buffer.alloc(32, 1),
  Buffer.alloc(16, 2),
]);

// A keyring that owns nothing: a decrypt that gets past the header fails with NO_DECRYPTABLE_KEY.
const keyring = { onEncrypt: async (m) => m, onDecrypt: async (m) => m };
const options = { keyring };
if (values['max-header-length']) options.maxHeaderLength = Number(values['max-header-length']);
const d = new StreamDecryptor(options);
let fed = 0;
let outcome = 'accepted';
const cpu0 = process.cpuUsage();
const t0 = performance.now();
try {
  for (let i = 0; i < header.byteLength; i += chunk) {
    const c = header.subarray(i, i + chunk);
    await d.update(c);
    fed += c.byteLength;
  }
} catch (caught) {
  const e = /** @type {{ code?: string, name?: string, message?: string }} */ (caught);
  outcome = `${e.code ?? e.name}: ${String(e.message).slice(0, 120)}${String(e.message).length > 120 ? `… (${String(e.message).length} characters)` : ''}`;
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
d.dispose();
console.log(`core: ${path.relative(process.cwd(), dist) || dist}`);
console.log(`forged header: ${header.byteLength} bytes (${edks} EDKs), ${chunk}-byte chunks`);
console.log(`fed before it ended: ${fed} bytes; outcome: ${outcome}`);
console.log(
  `CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)}, system ${(cpu.system / 1000).toFixed(0)}); wall ${wall.toFixed(0)} ms`,
);
