// One process per case: peak RSS (VmHWM; see the note at the end) of one operation.
//   node bench/rss.mjs <ours|sdk> prepare <size> <frame> <file>   writes a ciphertext for decrypt
//   node bench/rss.mjs <ours|sdk> encrypt <size> <frame>           buffer encrypt of <size> bytes
//   node bench/rss.mjs <ours|sdk> decrypt <size> <frame> <file>    buffer decrypt of that file
//   node bench/rss.mjs ours stream <size> <frame>                  generated source → encryptStream
//        → sink, then source → encryptStream → decryptStream → sink; nothing of <size> is held
// Baseline: after the imports (of the measured implementation only), before the input is allocated (or read). Prints one JSON line.
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MiB, KiB } from './constants.mjs';

const [, , impl, op, sizeArg, frameArg, file = ''] = process.argv;
// Only the implementation measured is loaded: a process holding both (and their module graphs)
// starts from a larger heap, and V8 then lets more per-frame garbage pile up before collecting.
const { buffer, stream } = await import(impl === 'sdk' ? './sdk.mjs' : './ours.mjs');
const sink = () => {
  const w = /** @type {Writable & { bytes: number }} */ (
    new Writable({
      write(c, _e, cb) {
        w.bytes += c.length;
        cb();
      },
    })
  );
  w.bytes = 0;
  return w;
};
const size = Number(sizeArg);
const frameLength = Number(frameArg);
const suite = 0x0478;
globalThis.gc?.();
const base = process.memoryUsage().rss;
const extra = {};
if (op === 'prepare') {
  const pt = Buffer.alloc(size, 7);
  writeFileSync(file, await buffer.encrypt(pt, suite, frameLength));
} else if (op === 'encrypt') {
  const pt = Buffer.alloc(size, 7);
  await buffer.encrypt(pt, suite, frameLength);
} else if (op === 'decrypt') {
  const ct = readFileSync(file);
  await buffer.decrypt(ct);
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
  await pipeline(generated(), stream.encrypt(suite, frameLength), e);
  extra.encMs = performance.now() - t0;
  extra.ciphertextBytes = e.bytes;
  t0 = performance.now();
  const d = sink();
  await pipeline(generated(), stream.encrypt(suite, frameLength), stream.decrypt(suite), d);
  extra.encDecMs = performance.now() - t0;
  if (d.bytes !== size) throw new Error(`stream lost bytes: ${d.bytes} of ${size}`);
  extra.encMiBs = size / MiB / (extra.encMs / 1000);
  // Plaintext MiB per second through encrypt and decrypt, one after the other in one pipeline.
  extra.pipelineMiBs = size / MiB / (extra.encDecMs / 1000);
}
// process.resourceUsage().maxRSS is no good here: Linux carries the parent's high-water mark
// into a forked child (across exec), so every child would report the bench runner's own peak.
// VmHWM is the high-water mark of this process's own address space.
const maxRss = process.resourceUsage().maxRSS * 1024;
let peak = maxRss;
try {
  peak = Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
} catch {
  // Not Linux: maxRSS, which is right when the parent is small.
}
process.stdout.write(
  JSON.stringify({
    impl,
    op,
    size,
    frameLength,
    suite,
    baseRss: base,
    peakRss: peak,
    maxRss,
    growth: peak - base,
    growthOverInput: (peak - base) / size,
    ...extra,
  }) + '\n',
);
