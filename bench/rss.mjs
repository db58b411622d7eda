// One process per case: peak RSS of one encrypt or decrypt of a buffer (decrypt reads a
// prepared ciphertext file so encrypt's peak does not count), or of a streamed GiB.
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { impls, encryptStream, decryptStream, ours, MiB } from './lib.mjs';

const [, , impl, op, sizeArg, frameArg, file] = process.argv;
const size = Number(sizeArg);
const frameLength = Number(frameArg);
globalThis.gc?.();
const base = process.memoryUsage().rss;
if (op === 'prepare') {
  const pt = Buffer.alloc(size, 7);
  writeFileSync(file, Buffer.from(await impls[impl].encrypt(pt, 0x0478, frameLength)));
} else if (op === 'encrypt') {
  const pt = Buffer.alloc(size, 7);
  await impls[impl].encrypt(pt, 0x0478, frameLength);
} else if (op === 'decrypt') {
  const ct = readFileSync(file);
  await impls[impl].decrypt(ct);
} else if (op === 'stream') {
  // Encrypt a generated stream of `size` bytes and decrypt it again, discarding the output.
  let produced = 0;
  const chunk = Buffer.alloc(MiB, 3);
  const src = new Readable({ read() { if (produced >= size) this.push(null); else { produced += chunk.length; this.push(chunk); } } });
  let seen = 0;
  await pipeline(src, encryptStream({ keyring: ours, suite: 0x0478, frameLength }), decryptStream({ keyring: ours }), new Writable({ write(c, _e, cb) { seen += c.length; cb(); } }));
  if (seen !== size) throw new Error(`stream lost bytes: ${seen} of ${size}`);
}
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ impl, op, size, frameLength, baseRss: base, peakRss: peak, growthOverInput: (peak - base) / size }) + '\n');
