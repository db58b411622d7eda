// One process per case: peak RSS (process.resourceUsage().maxRSS) of one operation.
//   node bench/rss.mjs <ours|sdk> prepare <size> <frame> <file>   writes a ciphertext for decrypt
//   node bench/rss.mjs <ours|sdk> encrypt <size> <frame>           buffer encrypt of <size> bytes
//   node bench/rss.mjs <ours|sdk> decrypt <size> <frame> <file>    buffer decrypt of that file
//   node bench/rss.mjs ours stream <size> <frame>                  generated source → encryptStream
//        → sink, then source → encryptStream → decryptStream → sink; nothing of <size> is held
// Baseline: after the imports, before the input is allocated (or read). Prints one JSON line.
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { impls, streamImpls, sink, MiB, KiB } from './lib.mjs';

const [, , impl, op, sizeArg, frameArg, file] = process.argv;
const size = Number(sizeArg);
const frameLength = Number(frameArg);
const suite = 0x0478;
globalThis.gc?.();
const base = process.memoryUsage().rss;
const extra = {};
if (op === 'prepare') {
  const pt = Buffer.alloc(size, 7);
  writeFileSync(file, await impls[impl].encrypt(pt, suite, frameLength));
} else if (op === 'encrypt') {
  const pt = Buffer.alloc(size, 7);
  await impls[impl].encrypt(pt, suite, frameLength);
} else if (op === 'decrypt') {
  const ct = readFileSync(file);
  await impls[impl].decrypt(ct);
} else if (op === 'stream') {
  const generated = () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * KiB, 3);
    return new Readable({
      read() {
        if (produced >= size) this.push(null);
        else {
          produced += chunk.length;
          this.push(chunk);
        }
      },
    });
  };
  let t0 = performance.now();
  const e = sink();
  await pipeline(generated(), streamImpls[impl].encrypt(suite, frameLength), e);
  extra.encMs = performance.now() - t0;
  extra.ciphertextBytes = e.bytes;
  t0 = performance.now();
  const d = sink();
  await pipeline(generated(), streamImpls[impl].encrypt(suite, frameLength), streamImpls[impl].decrypt(suite), d);
  extra.encDecMs = performance.now() - t0;
  if (d.bytes !== size) throw new Error(`stream lost bytes: ${d.bytes} of ${size}`);
  extra.encMiBs = size / MiB / (extra.encMs / 1000);
  // Decrypt alone, derived: the enc→dec pipeline minus the encrypt-only run.
  extra.decMiBs = size / MiB / ((extra.encDecMs - extra.encMs) / 1000);
}
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ impl, op, size, frameLength, suite, baseRss: base, peakRss: peak, growth: peak - base, growthOverInput: (peak - base) / size, ...extra }) + '\n');
