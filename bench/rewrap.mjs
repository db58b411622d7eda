// Rewrap of a large unsigned message (header-only) vs decrypt + re-encrypt of the same message.
import { createReadStream, createWriteStream, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decrypt, decryptStream, encrypt, encryptStream, rewrap, rewrapStream } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { MiB } from './lib.mjs';

export async function rewrapBench({ size }) {
  const from = new RawAesKeyring({ keyNamespace: 'bench', keyName: 'old', wrappingKey: Buffer.alloc(32, 1) });
  const to = new RawAesKeyring({ keyNamespace: 'bench', keyName: 'new', wrappingKey: Buffer.alloc(32, 2) });
  const dir = tmpdir();
  const src = path.join(dir, `envelope-rewrap-${process.pid}.enc`);
  const out1 = `${src}.rewrapped`;
  const out2 = `${src}.reencrypted`;
  let produced = 0;
  const chunk = Buffer.alloc(MiB, 5);
  await pipeline(
    new Readable({
      read() {
        if (produced >= size) this.push(null);
        else {
          produced += chunk.length;
          this.push(chunk);
        }
      },
    }),
    encryptStream({ keyring: from, suite: 0x0478, frameLength: 65536 }),
    createWriteStream(src),
  );
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const sample = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 20);
  let t0 = performance.now();
  await pipeline(createReadStream(src, { highWaterMark: MiB }), rewrapStream({ from, to }), createWriteStream(out1));
  const rewrapMs = performance.now() - t0;
  const rewrapRss = rssMax - rss0;
  t0 = performance.now();
  await pipeline(
    createReadStream(src, { highWaterMark: MiB }),
    decryptStream({ keyring: from }),
    encryptStream({ keyring: to, suite: 0x0478, frameLength: 65536 }),
    createWriteStream(out2),
  );
  const fullMs = performance.now() - t0;
  clearInterval(sample);
  // The rewrapped message must decrypt with the new key.
  let seen = 0;
  await pipeline(
    createReadStream(out1, { highWaterMark: MiB }),
    decryptStream({ keyring: to }),
    new Writable({
      write(c, _e, cb) {
        seen += c.length;
        cb();
      },
    }),
  );
  if (seen !== size) throw new Error('rewrapped message did not decrypt');
  const bytes = statSync(src).size;
  for (const f of [src, out1, out2]) unlinkSync(f);
  // In memory: rewrap() returns the new header and a view of the body (O(header)), against
  // decrypt + encrypt of the same message.
  const msg = (await encrypt(Buffer.alloc(size, 6), { keyring: from, suite: 0x0478, frameLength: 65536 })).ciphertext;
  const m0 = process.memoryUsage().rss;
  t0 = performance.now();
  const r = await rewrap(msg, { from, to });
  const memRewrapMs = performance.now() - t0;
  const memRewrapRss = process.memoryUsage().rss - m0;
  if (r.method !== 'header-only' || r.parts?.[1]?.buffer !== msg.buffer)
    throw new Error('expected a header-only rewrap over a view of the body');
  t0 = performance.now();
  const { plaintext } = await decrypt(msg, { keyring: from });
  await encrypt(plaintext, { keyring: to, suite: 0x0478, frameLength: 65536 });
  const memFullMs = performance.now() - t0;
  return {
    case: `rewrap ${size / MiB} MiB unsigned (0x0478)`,
    size,
    messageBytes: bytes,
    rewrapMs,
    fullMs,
    speedup: fullMs / rewrapMs,
    rewrapRssGrowthMiB: rewrapRss / MiB,
    memRewrapMs,
    memFullMs,
    memSpeedup: memFullMs / memRewrapMs,
    memRewrapRssGrowthMiB: memRewrapRss / MiB,
  };
}
