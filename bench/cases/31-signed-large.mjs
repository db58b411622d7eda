// Signed messages over the 64 MiB buffering default, for real (issue 14, point 1): a 0x0578
// stream decrypted with releaseUnverifiedPlaintext (the final frame held until the signature
// verifies), and rewrapped (re-encrypted frame by frame), each in its own process for its peak
// RSS. Default limits; every byte is checked.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB } from '../lib.mjs';
import { f0, mib } from '../format.mjs';

export const id = 'signed-large';
export const title = 'Signed messages over 64 MiB, streamed (peak memory, separate process per case)';
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'signed-large.mjs');

export async function run({ quick, log }) {
  const size = quick ? 80 * MiB : 512 * MiB;
  const rows = [];
  for (const op of ['decrypt', 'rewrap']) {
    const r = JSON.parse(
      execFileSync(process.execPath, ['--expose-gc', script, op, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim(),
    );
    rows.push(r);
    log(
      `0x0578 ${mib(size)} encrypt → ${op === 'rewrap' ? 'rewrap → ' : ''}decrypt (release): ${f0(r.mibs)} MiB/s, peak RSS ${mib(r.peakRss)} (baseline ${mib(r.baseRss)}, growth ${mib(r.growth)})`,
    );
  }
  return rows;
}

export function markdown(rows) {
  return [
    'A generated source through encryptStream (0x0578) → [rewrapStream →] decryptStream with `releaseUnverifiedPlaintext`, default limits (64 MiB), SHA-256 of source and sink compared. Growth is peak RSS over the baseline after the imports.',
    '',
    '| pipeline | size | MiB/s | peak RSS | baseline | growth |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| encrypt → ${r.op === 'rewrap' ? 'rewrap → ' : ''}decrypt | ${mib(r.size)} | ${f0(r.mibs)} | ${mib(r.peakRss)} | ${mib(r.baseRss)} | ${mib(r.growth)} |`,
    ),
  ];
}
