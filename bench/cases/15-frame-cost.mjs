// What one frame costs in node:crypto, in µs: the fixed cost of a cipher object (create, AAD,
// final, tag) against the bulk AES-GCM cost of the bytes. Explains the frame-size effect in the
// throughput tables: at 4096-byte frames the fixed cost is most of the time.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { f0 } from '../format.mjs';

export const id = 'frame-cost';
export const title = 'Cost of one frame in node:crypto (µs, fastest of 7 runs)';

const key = randomBytes(32);
const iv = Buffer.alloc(12);
const aad = Buffer.alloc(100, 1);

function time(n, fn) {
  const runs = [];
  for (let r = 0; r < 8; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    if (r > 0) runs.push(((performance.now() - t0) * 1000) / n);
  }
  // The fastest run: on a shared machine the others measure the neighbours.
  return Math.min(...runs);
}

export async function run({ quick, log }) {
  const n = quick ? 2000 : 5000;
  const p4 = randomBytes(4096);
  const p64 = randomBytes(65536);
  const frame = (p) => () => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    c.update(p);
    c.final();
    c.getAuthTag();
  };
  const ct4 = (() => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    const x = c.update(p4);
    c.final();
    return { x, tag: c.getAuthTag() };
  })();
  const long = createCipheriv('aes-256-gcm', key, iv);
  const r = {
    createCipheriv: time(n, () => createCipheriv('aes-256-gcm', key, iv)),
    emptyFrame: time(n, frame(Buffer.alloc(0))),
    frame4096: time(n, frame(p4)),
    frame65536: time(n / 4, frame(p64)),
    decryptFrame4096: time(n, () => {
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAAD(aad);
      d.setAuthTag(ct4.tag);
      d.update(ct4.x);
      d.final();
    }),
    bulk4096: time(n, () => long.update(p4)),
    bulk65536: time(n / 4, () => long.update(p64)),
    copy4096: time(n, () => Buffer.allocUnsafe(4096).set(p4)),
  };
  r.fixedShare4096 = r.emptyFrame / r.frame4096;
  r.fixedShare65536 = r.emptyFrame / r.frame65536;
  log(
    `frame cost µs: createCipheriv ${f0(r.createCipheriv)}, empty frame (create+AAD+final+tag) ${f0(r.emptyFrame)}, 4096-byte frame ${f0(r.frame4096)} (bulk ${f0(r.bulk4096)}), 65536-byte frame ${f0(r.frame65536)} (bulk ${f0(r.bulk65536)}), decrypt 4096 ${f0(r.decryptFrame4096)}; fixed share ${Math.round(100 * r.fixedShare4096)}% at 4096, ${Math.round(100 * r.fixedShare65536)}% at 65536`,
  );
  return [r];
}

export function markdown([r]) {
  const mbps = (us, bytes) => f0(bytes / 1048576 / (us / 1e6));
  return [
    '| operation | µs | implied MiB/s |',
    '|---|---|---|',
    `| \`createCipheriv\` alone | ${f0(r.createCipheriv)} | |`,
    `| empty frame: createCipheriv + setAAD + final + getAuthTag | ${f0(r.emptyFrame)} | |`,
    `| 4096-byte frame (the same + update) | ${f0(r.frame4096)} | ${mbps(r.frame4096, 4096)} |`,
    `| 4096-byte frame, decrypt (createDecipheriv + setAAD + setAuthTag + update + final) | ${f0(r.decryptFrame4096)} | ${mbps(r.decryptFrame4096, 4096)} |`,
    `| 65536-byte frame | ${f0(r.frame65536)} | ${mbps(r.frame65536, 65536)} |`,
    `| bulk: update(4096) on a long-lived cipher | ${f0(r.bulk4096)} | ${mbps(r.bulk4096, 4096)} |`,
    `| bulk: update(65536) on a long-lived cipher | ${f0(r.bulk65536)} | ${mbps(r.bulk65536, 65536)} |`,
    `| copy 4096 bytes into a new buffer | ${f0(r.copy4096)} | |`,
    '',
    `The fixed per-frame cost is ${Math.round(100 * r.fixedShare4096)}% of a 4096-byte frame and ${Math.round(100 * r.fixedShare65536)}% of a 65536-byte one.`,
  ];
}
