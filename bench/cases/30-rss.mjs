// Peak RSS, one child process per case (bench/rss.mjs): 64 MiB buffer encrypt and decrypt (the
// decrypt child reads a ciphertext prepared by another child), and, in the full run, 1 GiB
// through encryptStream → decryptStream from a generated source to a discarding sink.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB } from '../lib.mjs';
import { f0, mib } from '../format.mjs';

export const id = 'rss';
export const title = 'Peak memory (separate process per case)';
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'rss.mjs');

const child = (args) =>
  JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, ...args.map(String)], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim());

export async function run({ quick, log }) {
  const rows = [];
  const tmp = path.join(tmpdir(), `envelope-bench-rss-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const size = (quick ? 16 : 64) * MiB;
    for (const frame of quick ? [4096] : [4096, 65536]) {
      for (const impl of ['ours', 'sdk']) {
        const ct = path.join(tmp, `${impl}.ct`);
        child([impl, 'prepare', size, frame, ct]);
        for (const op of ['encrypt', 'decrypt']) {
          const r = child([impl, op, size, frame, ct]);
          rows.push(r);
          log(
            `peak RSS ${impl.padEnd(4)} ${op.padEnd(7)} ${size / MiB} MiB frame ${String(frame).padEnd(5)}: ${mib(r.peakRss)} (baseline ${mib(r.baseRss)}), (peak − baseline)/input ${r.growthOverInput.toFixed(2)}×`,
          );
        }
      }
    }
    if (!quick) {
      const r = child(['ours', 'stream', 1024 * MiB, 65536]);
      rows.push(r);
      log(
        `ours stream 1 GiB frame 65536 0x0478: encrypt alone ${f0(r.encMiBs)} MiB/s, encrypt→decrypt pipeline ${f0(r.pipelineMiBs ?? 0)} MiB/s of plaintext; peak RSS ${mib(r.peakRss)} (baseline ${mib(r.baseRss)}), growth ${mib(r.growth)}`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

export function markdown(rows) {
  return [
    'Baseline: RSS after the imports, before the input is allocated or read. Growth counts the input itself (the plaintext for encrypt, the ciphertext file read for decrypt).',
    '',
    '| impl | operation | size | frame | peak RSS | baseline | peak − baseline | ×input |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (x) =>
        `| ${x.impl} | ${x.op === 'stream' ? `stream enc→dec (encrypt alone ${f0(x.encMiBs)} MiB/s; encrypt→decrypt pipeline ${f0(x.pipelineMiBs ?? x.size / 1048576 / (x.encDecMs / 1000))} MiB/s)` : `buffer ${x.op}`} | ${mib(x.size)} | ${x.frameLength} | ${mib(x.peakRss)} | ${mib(x.baseRss)} | ${mib(x.growth)} | ${x.op === 'stream' ? '—' : `${x.growthOverInput.toFixed(2)}×`} |`,
    ),
  ];
}
