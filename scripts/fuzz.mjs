#!/usr/bin/env node
/**
 * Fuzz campaign over the message parser and decrypt (buffer and stream APIs).
 *
 *   node scripts/fuzz.mjs [--seconds N | --runs N] [--seed S] [--json]
 *
 * With --runs the campaign is a fixed number of inputs, and with --seed a fixed sequence of them
 * (the keys and plaintexts of the seed messages are drawn from the seed too): what npm test runs.
 *
 * Inputs: random bytes; valid messages of every suite, mutated (bit flips, byte overwrites,
 * truncation, splices, duplicated ranges); headers with huge declared lengths and EDK counts
 * at and past the limit; contexts with duplicate keys or invalid UTF-8. Each input goes to the
 * buffer decrypt and to the stream decrypt in random chunks, under a per-input deadline.
 * Anything other than an EnvelopeError is a crash; a decrypt that takes longer than the
 * deadline is a hang. Prints how many inputs were tried; exit 1 on any crash or hang.
 * Needs the built packages (npm run build or npm test).
 */
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { EnvelopeError, SUITES, decrypt, decryptStream, encrypt } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, runs: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
});
const seconds = Number(values.seconds);
const runs = values.runs === undefined ? undefined : Number(values.runs);
if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) throw new Error('--runs expects a positive integer');
const seed = values.seed ? Number(values.seed) : Date.now() % 2 ** 31;
/** Deterministic bytes from the seed (keys and plaintexts of the seed messages). */
const seeded = (() => {
  let n = 0;
  return (/** @type {number} */ len) => createHash('shake256', { outputLength: len }).update(`${seed}/${n++}`).digest();
})();
const keyring = new RawAesKeyring({ keyNamespace: 'fuzz', keyName: 'k', wrappingKey: seeded(32) });
const policy = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT';
const DEADLINE_MS = 2000;

// Seeds: one small message per suite, two frame lengths.
/** @type {Buffer[]} */
const seeds = [];
for (const suite of SUITES.values()) {
  for (const frameLength of [16, 4096]) {
    const { ciphertext } = await encrypt(seeded(40), {
      keyring,
      suite: suite.id,
      frameLength,
      encryptionContext: { fuzz: 'yes', ключ: 'значение' },
      commitmentPolicy: suite.commitment ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT',
    });
    seeds.push(Buffer.from(ciphertext));
  }
}

const u16 = (/** @type {number} */ n) => [n >> 8, n & 0xff];
const hostileHeaders = fc.oneof(
  // EDK count at and past the limit, with nothing behind it.
  fc.integer({ min: 99, max: 65535 }).map((n) => Buffer.from([2, 0x04, 0x78, ...new Array(32).fill(1), 0, 0, ...u16(n), 0, 7])),
  // Huge declared context length.
  fc.integer({ min: 1, max: 65535 }).map((n) => Buffer.from([2, 0x05, 0x78, ...new Array(32).fill(1), ...u16(n), 0, 1])),
  // Context with a duplicate key or invalid UTF-8.
  fc.constantFrom(
    Buffer.from([2, 0x04, 0x78, ...new Array(32).fill(1), 0, 14, 0, 2, 0, 1, 97, 0, 1, 49, 0, 1, 97, 0, 1, 50, 0, 1]),
    Buffer.from([2, 0x04, 0x78, ...new Array(32).fill(1), 0, 8, 0, 1, 0, 2, 0xc3, 0x28, 0, 1, 49, 0, 1]),
  ),
);
const mutated = fc
  .tuple(
    fc.nat(seeds.length - 1),
    fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('flip', 'set', 'cut', 'dup', 'splice')), { minLength: 1, maxLength: 4 }),
  )
  .map(([i, ops]) => {
    let b = Buffer.from(/** @type {Buffer} */ (seeds[i]));
    for (const [pos, val, op] of ops) {
      if (b.length === 0) break;
      const p = pos % b.length;
      if (op === 'flip') b[p] = (b[p] ?? 0) ^ (1 << (val & 7));
      else if (op === 'set') b[p] = val;
      else if (op === 'cut') b = b.subarray(0, p);
      else if (op === 'dup') b = Buffer.concat([b.subarray(0, p), b.subarray(p, p + (val % 64)), b.subarray(p)]);
      else b = Buffer.concat([b.subarray(0, p), /** @type {Buffer} */ (seeds[val % seeds.length]).subarray(p)]);
    }
    return b;
  });
const input = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)),
  mutated,
  mutated,
  hostileHeaders,
);

let tried = 0;
let rejected = 0;
let accepted = 0;
/** @type {{ input: string, error: string }[]} */
const crashes = [];
let maxMs = 0;

/**
 * `p`, or a rejection with `HANG` after DEADLINE_MS.
 * @template T
 * @param {Promise<T>} p
 * @returns {Promise<T>}
 */
async function withDeadline(p) {
  /** @type {NodeJS.Timeout | undefined} */
  let t;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, rej) => (t = setTimeout(() => rej(new Error('HANG')), DEADLINE_MS)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/**
 * Decrypts one input whole and streamed in chunks of `chunk` bytes; counts what became of it.
 * @param {Buffer} bytes
 * @param {number} chunk
 */
async function one(bytes, chunk) {
  const t0 = performance.now();
  /** @type {(() => Promise<unknown>)[]} */
  const ways = [
    () => decrypt(bytes, { keyring, commitmentPolicy: policy }),
    () => {
      const parts = [];
      for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
      return pipeline(
        Readable.from(parts),
        decryptStream({ keyring, commitmentPolicy: policy }),
        new Writable({
          write(_c, _e, cb) {
            cb();
          },
        }),
      );
    },
  ];
  for (const run of ways) {
    try {
      await withDeadline(run());
      accepted++;
    } catch (e) {
      if (e instanceof EnvelopeError) rejected++;
      else
        crashes.push({
          input: bytes.toString('base64'),
          error: e instanceof Error ? (e.message === 'HANG' ? 'hang' : String(e.stack)) : String(e),
        });
    }
  }
  maxMs = Math.max(maxMs, performance.now() - t0);
  tried++;
}

const end = Date.now() + seconds * 1000;
const more = () => (runs === undefined ? Date.now() < end : tried < runs);
const rss0 = process.memoryUsage().rss;
let rssMax = rss0;
let batch = 0;
while (more() && crashes.length === 0) {
  const n = runs === undefined ? 200 : Math.min(200, runs - tried);
  for (const [bytes, chunk] of fc.sample(fc.tuple(input, fc.integer({ min: 1, max: 300 })), { seed: seed + batch++, numRuns: n })) {
    await one(bytes, chunk);
  }
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
}
const report = {
  seed,
  seconds: runs === undefined ? seconds : undefined,
  runs,
  tried,
  decryptsRejected: rejected,
  decryptsAccepted: accepted,
  crashes: crashes.length,
  maxInputMs: Math.round(maxMs),
  rssGrowthMiB: Math.round((rssMax - rss0) / 2 ** 20),
};
if (values.json) process.stdout.write(`${JSON.stringify({ ...report, crashSamples: crashes.slice(0, 3) })}\n`);
else {
  process.stdout.write(
    `fuzz: ${tried} inputs${runs === undefined ? ` in ${seconds} s` : ''} (seed ${seed}): ${rejected} coded rejections, ${accepted} accepted, ${crashes.length} crashes/hangs, slowest input ${report.maxInputMs} ms, RSS growth ${report.rssGrowthMiB} MiB\n`,
  );
  for (const c of crashes.slice(0, 3)) process.stdout.write(`  crash: ${c.error.split('\n')[0]}\n  input (base64): ${c.input}\n`);
}
process.exitCode = crashes.length ? 1 : 0;
