#!/usr/bin/env node
// Signed messages larger than the 64 MiB buffering default, streamed for real (issue 14, point 1),
// one operation per process so the peak RSS (VmHWM) is its own:
//   node bench/signed-large.mjs decrypt <size>   generated source → encryptStream (0x0578) →
//        decryptStream({ releaseUnverifiedPlaintext: true }) → sink (final frame held until the
//        signature verifies)
//   node bench/signed-large.mjs rewrap <size>    generated source → encryptStream (0x0578) →
//        rewrapStream (re-encrypted frame by frame) → decryptStream (release) → sink
// Default limits throughout (maxBufferedPlaintext and maxFrameLength 64 MiB). Checks every byte
// came back (SHA-256 of source and sink) and prints one JSON line with the peak RSS.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream, encryptStream, rewrapStream } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { KEY, CONTEXT, MiB, KiB } from './constants.mjs';

const [, , op, sizeArg] = process.argv;
const size = Number(sizeArg ?? 80 * MiB);
const from = new RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes', wrappingKey: Buffer.from(KEY) });
const to = new RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes-2', wrappingKey: Buffer.alloc(32, 43) });

const source = (hash) => {
  let produced = 0;
  const chunk = Buffer.alloc(64 * KiB);
  return new Readable({
    read() {
      if (produced >= size) return void this.push(null);
      const c = Buffer.from(chunk.fill((produced / chunk.length) & 0xff).subarray(0, Math.min(chunk.length, size - produced)));
      produced += c.length;
      hash.update(c);
      this.push(c);
    },
  });
};
const sink = (hash) => {
  const w = /** @type {Writable & { bytes: number }} */ (
    new Writable({
      write(c, _e, cb) {
        w.bytes += c.length;
        hash.update(c);
        cb();
      },
    })
  );
  w.bytes = 0;
  return w;
};

globalThis.gc?.();
const base = process.memoryUsage().rss;
const inHash = createHash('sha256');
const outHash = createHash('sha256');
const out = sink(outHash);
/** @type {(NodeJS.ReadableStream | NodeJS.ReadWriteStream)[]} */
const stages = [source(inHash), encryptStream({ keyring: from, suite: 0x0578, encryptionContext: CONTEXT })];
let method;
if (op === 'rewrap') {
  const r = rewrapStream({ from, to });
  r.on('rewrap', (s) => (method = s.method));
  stages.push(r);
}
stages.push(decryptStream({ keyring: op === 'rewrap' ? to : from, releaseUnverifiedPlaintext: true }));
const t0 = performance.now();
await pipeline([...stages, out]);
const ms = performance.now() - t0;
if (out.bytes !== size || inHash.digest('hex') !== outHash.digest('hex'))
  throw new Error(`${op}: ${out.bytes} of ${size} bytes came back, or not the same`);
if (op === 'rewrap' && method !== 're-encrypted') throw new Error(`rewrap method ${method}`);
let peak = process.resourceUsage().maxRSS * 1024;
try {
  peak = Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
} catch {
  // Not Linux: maxRSS.
}
process.stdout.write(
  JSON.stringify({ op, size, baseRss: base, peakRss: peak, growth: peak - base, ms, mibs: size / MiB / (ms / 1000) }) + '\n',
);
