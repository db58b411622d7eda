#!/usr/bin/env node
/**
 * Coverage-guided fuzzing of the built @envelope/core message parser and decrypt
 * (packages/core/dist), with V8's precise block coverage as the guide.
 *
 *   node scripts/fuzz-coverage.mjs [--seconds 60 | --runs N] [--seed S] [--timeout-ms 1000] [--crash-dir DIR] [--uncovered] [--json]
 *   (--runs: a fixed number of mutated inputs after the seeds; with --seed, the same mutation sequence
 *   every time: what npm test runs)
 *   npm run fuzz:coverage -- --seconds 600
 *
 * Why not a libFuzzer binding: @jazzer.js/core 4.0.0 ships a prebuilt addon that needs glibc
 * 2.38 (this toolchain's Debian 12 has 2.36) and older releases download their prebuilds from
 * GitHub at install time, which this environment cannot reach (docs/threat-model.md, "Fuzzing").
 *
 * How it works:
 * - A worker thread runs the target with an inspector session on its own isolate:
 *   `Profiler.startPreciseCoverage({ callCount: true, detailed: true })` before core is loaded,
 *   and `Profiler.takePreciseCoverage` after every input (which also resets the counters, so each
 *   input's coverage is its own). Only scripts under packages/core/dist count.
 * - The main thread keeps the corpus and the coverage map. A block is a range V8 reported for a
 *   function of core; its count for one input is the count of the innermost range of the same
 *   function that contains it (V8 omits nested ranges that ran as often as their parent), 0 when
 *   the function did not run. Features are (block, hit-count bucket) pairs (1, 2, 3, 4-7, 8-15,
 *   16-31, 32-127, 128+); an input with a feature never seen before joins the corpus.
 * - Seeds: a valid message of every suite (0x0014 … 0x0378 v1, 0x0478 and 0x0578 v2), framed
 *   (several frames, an exact multiple of the frame length, empty) and non-framed (built by hand
 *   for the unsigned suites), all decryptable with the fuzzer's keyring.
 * - Mutations, stacked 1-4 at a time: bit flips, interesting bytes, byte insert/delete, chunk
 *   duplication, splices of two corpus entries, truncation, dictionary tokens (base64 header
 *   starts, the final-frame marker, the reserved public-key context key), length fields (context, EDK count and
 *   lengths, frame length, final-frame length) set to boundary values, an EDK count of 65,535, a
 *   4 GiB frame length, a 64 KiB context length, a duplicate context key, invalid UTF-8 in the
 *   context.
 * - Target, per input: parseHeader; the buffer decrypt; the streaming decryptor fed in chunks.
 *   Anything but a coded EnvelopeError is a crash, and so is a disagreement between the buffer and
 *   the streaming decrypt (one accepts what the other refuses, or they return different
 *   plaintexts). An input running longer than --timeout-ms is a hang (the watchdog terminates the
 *   worker and starts a fresh one). Crashing and hanging inputs are saved to the crash directory.
 *
 * Prints inputs tried, corpus size, covered blocks over time, crashes, hangs and peak RSS (and, with
 * --uncovered, where the blocks seen but never reached are); exit 1 on any crash or hang. Needs the
 * built packages (npx tsc -b).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

// ============================================================================ main thread

async function main() {
  const { parseArgs } = await import('node:util');
  const { createHash, randomBytes } = await import('node:crypto');
  const { mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');

  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      'timeout-ms': { type: 'string', default: '1000' },
      'crash-dir': { type: 'string' },
      uncovered: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) throw new Error('--runs expects a positive integer');
  const timeoutMs = Number(values['timeout-ms']);
  const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() % 2 ** 31) >>> 0;
  const crashDir = values['crash-dir'] ?? path.join(tmpdir(), 'envelope-fuzz-coverage-crashes');
  if (!(seconds > 0) || !(timeoutMs > 0)) throw new Error('--seconds and --timeout-ms must be positive numbers');
  const rand = prng(seed);
  const wrappingKey = randomBytes(32);

  // ---------------------------------------------------------------- coverage map
  const blockIds = new Map(); // `${fn}|${start}|${end}` -> id
  const fnBlocks = new Map(); // fn key -> [{ id, start, end }]
  const coveredBlocks = new Set();
  const features = new Set();
  const bucket = (n) => (n <= 3 ? n : n < 8 ? 4 : n < 16 ? 5 : n < 32 ? 6 : n < 128 ? 7 : 8);

  /** Adds an input's coverage; returns how many new features it brought. */
  function absorb(scripts) {
    let fresh = 0;
    for (const s of scripts) {
      for (const ranges of s.fns) {
        const fn = `${s.url}|${ranges[0]}|${ranges[1]}`;
        let known = fnBlocks.get(fn);
        if (!known) fnBlocks.set(fn, (known = []));
        for (let i = 0; i < ranges.length; i += 3) {
          const key = `${fn}|${ranges[i]}|${ranges[i + 1]}`;
          if (!blockIds.has(key)) {
            const id = blockIds.size;
            blockIds.set(key, id);
            known.push({ id, start: ranges[i], end: ranges[i + 1] });
          }
        }
        for (const b of known) {
          // Innermost reported range of this function containing the block.
          let count = 0;
          let width = Infinity;
          for (let i = 0; i < ranges.length; i += 3) {
            const st = ranges[i];
            const en = ranges[i + 1];
            if (st <= b.start && en >= b.end && en - st < width) {
              width = en - st;
              count = ranges[i + 2];
            }
          }
          if (count === 0) continue;
          coveredBlocks.add(b.id);
          const f = b.id * 16 + bucket(count);
          if (!features.has(f)) {
            features.add(f);
            fresh++;
          }
        }
      }
    }
    return fresh;
  }

  // ---------------------------------------------------------------- worker and watchdog
  const heartbeat = new Float64Array(new SharedArrayBuffer(16)); // [busy input id or -1, start ms]
  let worker;
  let pending; // { id, input, resolve }
  let nextId = 0;
  let rssPeak = process.memoryUsage().rss;
  const hangs = [];
  const crashes = [];
  let workerReady;

  function settle(r) {
    const p = pending;
    pending = undefined;
    p?.resolve({ type: 'result', id: p.id, coverage: [], ...r });
  }

  function startWorker() {
    heartbeat[0] = -1;
    const w = new Worker(new URL(import.meta.url), {
      workerData: { wrappingKey, heartbeat: heartbeat.buffer, seed },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    worker = w;
    workerReady = new Promise((resolve, reject) => {
      w.once('message', (m) => (m.type === 'ready' ? resolve(m) : reject(new Error(`worker: ${JSON.stringify(m)}`))));
      w.once('error', reject);
    });
    w.on('message', (m) => {
      if (w === worker && m.type === 'result' && pending && m.id === pending.id) settle(m);
    });
    // The worker died while running an input (e.g. out of memory): a crash of that input.
    w.on('error', (e) => {
      if (w === worker) settle({ outcome: 'crash', error: `worker died: ${e?.stack ?? e}` });
    });
    w.on('exit', (code) => {
      if (w !== worker) return; // one we replaced after a hang
      settle({ outcome: 'crash', error: `worker exited (code ${code})` });
      startWorker();
    });
  }

  const watchdog = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (pending && heartbeat[0] === pending.id && performance.now() + performance.timeOrigin - heartbeat[1] > timeoutMs) {
      const stuck = worker;
      startWorker();
      void stuck.terminate();
      settle({ outcome: 'hang' });
    }
  }, 25);

  function run(input) {
    const id = nextId++;
    return new Promise((resolve) => {
      pending = { id, input, resolve };
      const copy = Uint8Array.from(input);
      worker.postMessage({ type: 'run', id, input: copy, chunkSeed: (rand() * 2 ** 32) >>> 0 }, [copy.buffer]);
    });
  }

  function save(kind, input, detail) {
    mkdirSync(crashDir, { recursive: true });
    const name = `${kind}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}`;
    writeFileSync(path.join(crashDir, `${name}.bin`), input);
    writeFileSync(path.join(crashDir, `${name}.txt`), `${detail}\n`);
    return path.join(crashDir, `${name}.bin`);
  }

  // ---------------------------------------------------------------- campaign
  startWorker();
  const { seeds } = await workerReady;
  const corpus = [];
  const outcomes = { accepted: 0 };
  let tried = 0;

  async function one(input) {
    await workerReady;
    const r = await run(input);
    tried++;
    if (r.outcome === 'crash') {
      crashes.push({ error: r.error, file: save('crash', input, r.error) });
    } else if (r.outcome === 'hang') {
      hangs.push({ file: save('hang', input, `no result within ${timeoutMs} ms`) });
    } else if (r.outcome === 'accepted') outcomes.accepted++;
    else outcomes[r.code] = (outcomes[r.code] ?? 0) + 1;
    return r.coverage.length ? absorb(r.coverage) : 0;
  }

  const started = performance.now();
  for (const s of seeds) {
    await one(s.bytes);
    corpus.push({ bytes: Buffer.from(s.bytes), seed: s.name });
  }
  const atSeeds = { blocks: coveredBlocks.size, features: features.size, seedCount: seeds.length };
  const timeline = [{ s: 0, tried, corpus: corpus.length, blocks: coveredBlocks.size }];
  const every = Math.max(1, seconds / 20) * 1000;
  let nextPoint = performance.now() + every;
  const end = performance.now() + seconds * 1000;
  const more = () => (runs === undefined ? performance.now() < end : tried < atSeeds.seedCount + runs);
  while (more()) {
    const input = mutate(corpus, rand);
    const fresh = await one(input);
    if (fresh > 0) corpus.push({ bytes: input, found: Math.round(performance.now() - started) });
    if (performance.now() >= nextPoint) {
      nextPoint += every;
      timeline.push({ s: Math.round((performance.now() - started) / 1000), tried, corpus: corpus.length, blocks: coveredBlocks.size });
    }
  }
  timeline.push({ s: Math.round((performance.now() - started) / 1000), tried, corpus: corpus.length, blocks: coveredBlocks.size });
  clearInterval(watchdog);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const last = worker;
  worker = undefined;
  await last.terminate();

  const report = {
    seed,
    seconds: runs === undefined ? seconds : undefined,
    runs,
    tried,
    execsPerSecond: Math.round(tried / ((performance.now() - started) / 1000)),
    seeds: atSeeds.seedCount,
    corpus: corpus.length,
    blocksKnown: blockIds.size,
    blocksAtSeeds: atSeeds.blocks,
    blocks: coveredBlocks.size,
    featuresAtSeeds: atSeeds.features,
    features: features.size,
    timeline,
    crashes: crashes.length,
    hangs: hangs.length,
    crashDir: crashes.length + hangs.length ? crashDir : undefined,
    crashSamples: crashes.slice(0, 3).map((c) => ({ error: c.error.split('\n').slice(0, 3).join(' | '), file: c.file })),
    hangSamples: hangs.slice(0, 3),
    outcomes,
    peakRssMiB: Math.round(Math.max(rssPeak, process.resourceUsage().maxRSS * 1024) / 2 ** 20),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const w = (s) => process.stdout.write(`${s}\n`);
    w(`fuzz-coverage: ${tried} inputs${runs === undefined ? ` in ${seconds} s` : ''} (${report.execsPerSecond}/s, seed ${seed})`);
    w(
      `  corpus ${corpus.length} (from ${atSeeds.seedCount} seeds); blocks covered ${report.blocks} (seeds alone ${atSeeds.blocks}; ${blockIds.size} known); features ${features.size} (seeds ${atSeeds.features})`,
    );
    w(`  over time: ${timeline.map((p) => `${p.s}s:${p.blocks}`).join(' ')}`);
    w(
      `  outcomes: ${Object.entries(outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    w(
      `  crashes ${crashes.length}, hangs ${hangs.length}, peak RSS ${report.peakRssMiB} MiB${report.crashDir ? `; inputs saved in ${crashDir}` : ''}`,
    );
    for (const c of report.crashSamples) w(`  crash: ${c.error} (${c.file})`);
    if (values.uncovered) {
      // Blocks seen (in a function that ran) but never reached, as dist file:line.
      const dist = new URL('../packages/core/dist/', import.meta.url);
      const lines = new Map();
      const lineOf = (file, offset) => {
        if (!lines.has(file)) lines.set(file, readFileSync(new URL(file, dist), 'utf8'));
        return lines.get(file).slice(0, offset).split('\n').length;
      };
      const where = new Map();
      for (const [key, id] of blockIds) {
        if (coveredBlocks.has(id)) continue;
        const [file, , , start] = key.split('|');
        const at = `${file}:${lineOf(file, Number(start))}`;
        where.set(at, (where.get(at) ?? 0) + 1);
      }
      w(`  never reached (${blockIds.size - coveredBlocks.size} blocks): ${[...where.keys()].sort().join(', ')}`);
    }
  }
  process.exitCode = crashes.length || hangs.length ? 1 : 0;
}

// ============================================================================ mutations

/** A small deterministic PRNG (mulberry32). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff];
const INTERESTING_16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const IV_LEN = 12;
const TAG_LEN = 16;

/**
 * Best-effort offsets of the length fields of a message, read without the library (so a mutated
 * input still yields what can be found): context length, EDK count and lengths, frame length,
 * and the first frames' sequence numbers and final-frame content length.
 */
function locateFields(b) {
  const f = { u16: [], u32: [] };
  try {
    let o = 0;
    const version = b[o++];
    if (version === 1) o++;
    else if (version !== 2) return f;
    o += 2 + (version === 1 ? 16 : 32);
    f.ctxLen = o;
    f.u16.push(o);
    const ctxLen = b.readUInt16BE(o);
    f.ctxStart = o + 2;
    o += 2 + ctxLen;
    f.edkCount = o;
    f.u16.push(o);
    const n = b.readUInt16BE(o);
    o += 2;
    for (let i = 0; i < n && i < 8; i++) {
      for (let j = 0; j < 3; j++) {
        f.u16.push(o);
        o += 2 + b.readUInt16BE(o);
      }
    }
    if (n > 8) return f;
    const contentType = b[o++];
    if (version === 1) o += 5;
    f.frameLength = o;
    f.u32.push(o);
    const frameLength = b.readUInt32BE(o);
    o += 4;
    const suite = b.readUInt16BE(version === 1 ? 2 : 1);
    if (version === 2) o += 32;
    else o += IV_LEN;
    o += TAG_LEN;
    if (contentType === 1) {
      f.u32.push(o + IV_LEN, o + IV_LEN + 4);
      return f;
    }
    for (let k = 0; k < 4 && o + 4 <= b.length; k++) {
      if (b.readUInt32BE(o) === 0xffffffff) {
        f.u32.push(o, o + 4, o + 8 + IV_LEN);
        f.finalLength = o + 8 + IV_LEN;
        break;
      }
      f.u32.push(o);
      o += 4 + IV_LEN + frameLength + TAG_LEN;
    }
    void suite;
  } catch {
    // Out of range: whatever was found so far.
  }
  return f;
}

function pickIn(rand, arr) {
  return arr[Math.floor(rand() * arr.length)];
}

function writeField(b, o, size, v) {
  if (o === undefined || o + size > b.length) return b;
  const c = Buffer.from(b);
  if (size === 2) c.writeUInt16BE(v & 0xffff, o);
  else c.writeUInt32BE(v >>> 0, o);
  return c;
}

/** Tokens a byte-level mutation would rarely stumble on. */
const DICTIONARY = [
  Buffer.from('AY'), // base64 of a v1 header ("AYAA…"): the parser says so
  Buffer.from('AX'),
  Buffer.from('Ag'), // base64 of a v2 header
  Buffer.from([0xff, 0xff, 0xff, 0xff]), // the final-frame marker
  Buffer.from([0, 0, 0, 1]), // sequence number 1
  Buffer.from('aws-crypto-public-key'), // the reserved context key of signed suites
  Buffer.from('aws-kms'),
];

const MUTATORS = [
  // a dictionary token, written over the input (often at its start) or inserted
  (b, rand) => {
    const t = pickIn(rand, DICTIONARY);
    const at = rand() < 0.3 ? 0 : Math.floor(rand() * (b.length + 1));
    if (rand() < 0.5) return Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
    const c = Buffer.concat([b, Buffer.alloc(Math.max(0, at + t.length - b.length))]);
    t.copy(c, at);
    return c;
  },
  // bit flip
  (b, rand) => {
    if (!b.length) return b;
    const c = Buffer.from(b);
    const i = Math.floor(rand() * c.length);
    c[i] ^= 1 << Math.floor(rand() * 8);
    return c;
  },
  // interesting or random byte
  (b, rand) => {
    if (!b.length) return b;
    const c = Buffer.from(b);
    c[Math.floor(rand() * c.length)] = rand() < 0.5 ? pickIn(rand, INTERESTING_8) : Math.floor(rand() * 256);
    return c;
  },
  // insert bytes
  (b, rand) => {
    const at = Math.floor(rand() * (b.length + 1));
    const n = 1 + Math.floor(rand() * 16);
    const fill =
      rand() < 0.5 ? Buffer.alloc(n, Math.floor(rand() * 256)) : Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    return Buffer.concat([b.subarray(0, at), fill, b.subarray(at)]);
  },
  // delete bytes
  (b, rand) => {
    if (!b.length) return b;
    const at = Math.floor(rand() * b.length);
    const n = 1 + Math.floor(rand() * 16);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
  },
  // duplicate a chunk
  (b, rand) => {
    if (!b.length) return b;
    const at = Math.floor(rand() * b.length);
    const n = 1 + Math.floor(rand() * 64);
    return Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
  },
  // truncate
  (b, rand) => b.subarray(0, Math.floor(rand() * b.length)),
  // a length field set to a boundary value
  (b, rand) => {
    const f = locateFields(b);
    if (rand() < 0.5 && f.u16.length) return writeField(b, pickIn(rand, f.u16), 2, pickIn(rand, INTERESTING_16));
    if (f.u32.length) return writeField(b, pickIn(rand, f.u32), 4, pickIn(rand, INTERESTING_32));
    const o = Math.floor(rand() * Math.max(1, b.length - 4));
    return writeField(b, o, rand() < 0.5 ? 2 : 4, pickIn(rand, INTERESTING_32));
  },
  // an EDK count of 65,535
  (b) => writeField(b, locateFields(b).edkCount, 2, 0xffff),
  // a 4 GiB frame length (or final-frame length)
  (b, rand) => {
    const f = locateFields(b);
    return writeField(b, rand() < 0.5 ? f.frameLength : f.finalLength, 4, 0xffffffff);
  },
  // a 64 KiB context length, with or without 64 KiB of context behind it
  (b, rand) => {
    const f = locateFields(b);
    if (f.ctxLen === undefined) return b;
    const c = writeField(b, f.ctxLen, 2, 0xffff);
    if (rand() < 0.5) return c;
    return Buffer.concat([c.subarray(0, f.ctxStart), Buffer.alloc(0xffff, 0x61), c.subarray(f.ctxStart)]);
  },
  // a duplicate context key: the first pair twice
  (b) => {
    const f = locateFields(b);
    if (f.ctxStart === undefined) return b;
    const s = f.ctxStart;
    const len = b.readUInt16BE(f.ctxLen);
    if (len < 2 || b.readUInt16BE(s) < 1) return b;
    try {
      const kl = b.readUInt16BE(s + 2);
      const vl = b.readUInt16BE(s + 4 + kl);
      const pair = b.subarray(s + 2, s + 6 + kl + vl);
      const c = Buffer.concat([b.subarray(0, s), Buffer.from([0, 0]), pair, b.subarray(s + 2)]);
      c.writeUInt16BE(b.readUInt16BE(s) + 1, s);
      c.writeUInt16BE(Math.min(0xffff, len + pair.length), f.ctxLen);
      return c;
    } catch {
      return b;
    }
  },
  // invalid UTF-8 in the context
  (b, rand) => {
    const f = locateFields(b);
    if (f.ctxStart === undefined || b.readUInt16BE(f.ctxLen) < 6) return b;
    const c = Buffer.from(b);
    const at = f.ctxStart + 4 + Math.floor(rand() * Math.max(1, b.readUInt16BE(f.ctxLen) - 5));
    if (at + 1 >= c.length) return b;
    c[at] = 0xc3;
    c[at + 1] = rand() < 0.5 ? 0x28 : 0xff;
    return c;
  },
];

function mutate(corpus, rand) {
  // Recent finds are favoured: they are where the frontier is.
  const pick = () =>
    (rand() < 0.3 ? corpus[corpus.length - 1 - Math.floor(rand() * Math.min(16, corpus.length))] : pickIn(rand, corpus)).bytes;
  let b = pick();
  if (rand() < 0.1) {
    // Splice: the head of one entry and the tail of another.
    const o = pick();
    b = Buffer.concat([b.subarray(0, Math.floor(rand() * (b.length + 1))), o.subarray(Math.floor(rand() * (o.length + 1)))]);
  }
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    try {
      b = pickIn(rand, MUTATORS)(b, rand);
    } catch {
      // A structural mutator that found no room in this input: leave it as it is.
    }
  }
  if (b.length > 256 * 1024) b = b.subarray(0, 256 * 1024);
  return Buffer.from(b);
}

// ============================================================================ worker (target)

async function workerMain() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

  const crypto = await import('node:crypto');
  const coreUrl = new URL('../packages/core/dist/', import.meta.url).href;
  const core = await import(new URL('index.js', coreUrl).href);
  const { deriveKeys } = await import(new URL('crypto/kdf.js', coreUrl).href);
  const { serializeHeaderBody } = await import(new URL('format/header.js', coreUrl).href);
  const { computeHeaderAuth } = await import(new URL('format/header-auth.js', coreUrl).href);
  const { EnvelopeError, SUITES, StreamDecryptor, decrypt, encrypt, parseHeader, serializeEncryptionContext } = core;

  const wrappingKey = Buffer.from(workerData.wrappingKey);
  const heartbeat = new Float64Array(workerData.heartbeat);
  const policy = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT';
  const limits = { maxEncryptedDataKeys: 100, maxFrameLength: 64 * 1024 * 1024 };

  /** A minimal AES-256-GCM keyring (the target is core, not a keyring package). */
  const keyring = {
    lastDataKey: undefined,
    async onEncrypt(m) {
      if (!m.hasDataKey) {
        const k = crypto.randomBytes(m.suite.keyLength);
        m.setDataKey(k);
        k.fill(0);
      }
      const dk = m.getDataKey();
      this.lastDataKey = Buffer.from(dk);
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', wrappingKey, iv);
      c.setAAD(serializeEncryptionContext(m.encryptionContext));
      const ct = Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]);
      dk.fill(0);
      m.addEncryptedDataKey({ providerId: 'fuzz', providerInfo: Buffer.from('k'), ciphertext: ct });
      return m;
    },
    async onDecrypt(m, edks) {
      if (m.hasDataKey) return m;
      for (const e of edks) {
        if (e.providerId !== 'fuzz' || e.ciphertext.byteLength !== 12 + m.suite.keyLength + 16) continue;
        try {
          const d = crypto.createDecipheriv('aes-256-gcm', wrappingKey, e.ciphertext.subarray(0, 12));
          d.setAAD(serializeEncryptionContext(m.encryptionContext));
          d.setAuthTag(e.ciphertext.subarray(e.ciphertext.byteLength - 16));
          const k = Buffer.concat([d.update(e.ciphertext.subarray(12, e.ciphertext.byteLength - 16)), d.final()]);
          m.setDataKey(k);
          k.fill(0);
          return m;
        } catch {
          // not this key
        }
      }
      return m;
    },
  };

  // ------------------------------------------------------------ seeds
  const seeds = [];
  const ec = { fuzz: 'yes', tenant: 'ключ' };
  for (const suite of SUITES.values()) {
    const commitPolicy = suite.commitment ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT';
    for (const [len, frameLength] of [
      [100, 32],
      [64, 32],
      [0, 64],
    ]) {
      const { ciphertext } = await encrypt(crypto.randomBytes(len), {
        keyring,
        suite: suite.id,
        frameLength,
        encryptionContext: ec,
        commitmentPolicy: commitPolicy,
      });
      seeds.push({ name: `0x${suite.id.toString(16).padStart(4, '0')} framed ${len}/${frameLength}`, bytes: Buffer.from(ciphertext) });
    }
    if (!suite.signature) {
      // Non-framed: re-seal a framed message's data key under a non-framed header and body.
      const { ciphertext } = await encrypt(Buffer.alloc(1), {
        keyring,
        suite: suite.id,
        encryptionContext: ec,
        commitmentPolicy: commitPolicy,
      });
      const dk = keyring.lastDataKey;
      const h = parseHeader(ciphertext, limits);
      const header = { ...h, contentType: 1, frameLength: 0 };
      const { key } = deriveKeys(suite, dk, h.messageId);
      const body = serializeHeaderBody(header);
      const auth = computeHeaderAuth(suite, h.version, key, body, new Uint8Array(0));
      const plaintext = crypto.randomBytes(70);
      const iv = crypto.randomBytes(suite.ivLength);
      const len = Buffer.alloc(8);
      len.writeBigUInt64BE(BigInt(plaintext.length));
      const aad = Buffer.concat([h.messageId, Buffer.from('AWSKMSEncryptionClient Single Block'), Buffer.from([0, 0, 0, 1]), len]);
      const c = crypto.createCipheriv(suite.cipher, key, iv, { authTagLength: suite.tagLength });
      c.setAAD(aad);
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      const msg = Buffer.concat([body, auth, iv, len, ct, c.getAuthTag()]);
      key.fill(0);
      dk.fill(0);
      const check = await decrypt(msg, { keyring, commitmentPolicy: policy });
      if (!Buffer.from(check.plaintext).equals(plaintext)) throw new Error('non-framed seed does not round-trip');
      seeds.push({ name: `0x${suite.id.toString(16).padStart(4, '0')} non-framed`, bytes: msg });
    }
  }
  // Forget what seeding ran: only the fuzz inputs' coverage counts.
  await session.post('Profiler.takePreciseCoverage');
  parentPort.postMessage({ type: 'ready', seeds: seeds.map((s) => ({ name: s.name, bytes: s.bytes })) });

  // ------------------------------------------------------------ one input
  const coded = (e) => e instanceof EnvelopeError;
  async function viaStream(bytes, rand) {
    const d = new StreamDecryptor({ keyring, commitmentPolicy: policy });
    const out = [];
    try {
      let o = 0;
      while (o < bytes.length) {
        const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 512));
        out.push(...(await d.update(bytes.subarray(o, o + n))));
        o += n;
      }
      out.push(...(await d.finish()));
      return Buffer.concat(out);
    } finally {
      d.dispose();
    }
  }

  async function target(bytes, chunkSeed) {
    try {
      parseHeader(bytes, limits);
    } catch (e) {
      if (!coded(e)) return { outcome: 'crash', error: `parseHeader: ${e?.stack ?? e}` };
    }
    let buffered;
    let bufferError;
    try {
      buffered = Buffer.from((await decrypt(bytes, { keyring, commitmentPolicy: policy })).plaintext);
    } catch (e) {
      if (!coded(e)) return { outcome: 'crash', error: `decrypt: ${e?.stack ?? e}` };
      bufferError = e;
    }
    let streamed;
    let streamError;
    try {
      streamed = await viaStream(bytes, prng(chunkSeed));
    } catch (e) {
      if (!coded(e)) return { outcome: 'crash', error: `stream decrypt: ${e?.stack ?? e}` };
      streamError = e;
    }
    if ((bufferError === undefined) !== (streamError === undefined)) {
      return {
        outcome: 'crash',
        error: `differential: buffer ${bufferError ? `refused (${bufferError.code})` : 'accepted'}, stream ${streamError ? `refused (${streamError.code})` : 'accepted'}`,
      };
    }
    if (buffered && !buffered.equals(streamed)) return { outcome: 'crash', error: 'differential: buffer and stream plaintexts differ' };
    return bufferError ? { outcome: 'rejected', code: bufferError.code } : { outcome: 'accepted' };
  }

  parentPort.on('message', async (m) => {
    if (m.type !== 'run') return;
    heartbeat[1] = performance.now() + performance.timeOrigin;
    heartbeat[0] = m.id;
    let r;
    try {
      r = await target(Buffer.from(m.input.buffer, m.input.byteOffset, m.input.byteLength), m.chunkSeed);
    } catch (e) {
      r = { outcome: 'crash', error: `harness: ${e?.stack ?? e}` };
    }
    heartbeat[0] = -1;
    const { result } = await session.post('Profiler.takePreciseCoverage');
    const coverage = [];
    for (const s of result) {
      if (!s.url.startsWith(coreUrl)) continue;
      const fns = [];
      for (const f of s.functions) {
        if (!f.isBlockCoverage || f.ranges.length === 0) continue;
        const flat = [];
        for (const rg of f.ranges) flat.push(rg.startOffset, rg.endOffset, rg.count);
        fns.push(flat);
      }
      coverage.push({ url: s.url.slice(coreUrl.length), fns });
    }
    parentPort.postMessage({ type: 'result', id: m.id, ...r, coverage });
  });
}

// Last, so that every declaration above is initialized.
if (isMainThread) await main();
else await workerMain();
