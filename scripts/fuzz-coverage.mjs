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
import { Worker } from 'node:worker_threads';
import { CoverageMap } from './fuzz-coverage/coverage.mjs';
import { mutate, prng } from './fuzz-coverage/mutate.mjs';

/** @typedef {import('./fuzz-coverage/coverage.mjs').ScriptCoverage} ScriptCoverage */
/**
 * What became of one input: the worker's result, or the watchdog's verdict.
 * @typedef {{ id: number, coverage: ScriptCoverage[] } & (
 *   { outcome: 'accepted' } | { outcome: 'rejected', code: string } | { outcome: 'crash', error: string } | { outcome: 'hang' }
 * )} Result
 */
/** @typedef {{ id: number, input: Buffer, resolve: (r: Result) => void }} Pending */
/** @typedef {{ bytes: Buffer, seed?: string, found?: number }} CorpusEntry */

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
  const map = new CoverageMap();
  const { blockIds, coveredBlocks, features } = map;
  const absorb = (/** @type {ScriptCoverage[]} */ scripts) => map.absorb(scripts);

  // ---------------------------------------------------------------- worker and watchdog
  const heartbeat = new Float64Array(new SharedArrayBuffer(16)); // [busy input id or -1, start ms]
  /** @type {Worker | undefined} */
  let worker;
  /** @type {Pending | undefined} */
  let pending;
  let nextId = 0;
  let rssPeak = process.memoryUsage().rss;
  /** @type {{ file: string }[]} */
  const hangs = [];
  /** @type {{ error: string, file: string }[]} */
  const crashes = [];
  /** @type {Promise<{ seeds: { name: string, bytes: Uint8Array }[] }>} */
  let workerReady = new Promise(() => {});

  /**
   * Resolves the pending input's run with `r`.
   * @param {{ outcome: 'crash', error: string } | { outcome: 'hang' } | Result} r
   */
  function settle(r) {
    const p = pending;
    pending = undefined;
    p?.resolve({ id: p.id, coverage: [], ...r });
  }

  function startWorker() {
    heartbeat[0] = -1;
    const w = new Worker(new URL('./fuzz-coverage/target.mjs', import.meta.url), {
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
      if (w === worker) settle({ outcome: 'crash', error: `worker died: ${e.stack ?? String(e)}` });
    });
    w.on('exit', (code) => {
      if (w !== worker) return; // one we replaced after a hang
      settle({ outcome: 'crash', error: `worker exited (code ${code})` });
      startWorker();
    });
  }

  const watchdog = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (pending && heartbeat[0] === pending.id && performance.now() + performance.timeOrigin - (heartbeat[1] ?? 0) > timeoutMs) {
      const stuck = worker;
      startWorker();
      void stuck?.terminate();
      settle({ outcome: 'hang' });
    }
  }, 25);

  /**
   * Runs one input in the worker.
   * @param {Buffer} input
   * @returns {Promise<Result>}
   */
  function run(input) {
    const id = nextId++;
    return new Promise((resolve) => {
      pending = { id, input, resolve };
      const copy = Uint8Array.from(input);
      worker?.postMessage({ type: 'run', id, input: copy, chunkSeed: (rand() * 2 ** 32) >>> 0 }, [copy.buffer]);
    });
  }

  /**
   * Saves a crashing or hanging input (and what it did) to the crash directory; returns its path.
   * @param {'crash' | 'hang'} kind
   * @param {Uint8Array} input
   * @param {string} detail
   */
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
  /** @type {CorpusEntry[]} */
  const corpus = [];
  /** @type {{ accepted: number, [code: string]: number }} */
  const outcomes = { accepted: 0 };
  let tried = 0;

  /**
   * Runs one input and takes in its outcome and coverage; returns how many new features it brought.
   * @param {Buffer} input
   */
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
    await one(Buffer.from(s.bytes));
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
  await last?.terminate();

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
    const w = (/** @type {string} */ s) => process.stdout.write(`${s}\n`);
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
      /** @type {Map<string, string>} */
      const texts = new Map();
      /** @type {(file: string, offset: number) => number} */
      const lineOf = (file, offset) => {
        const text = texts.get(file) ?? readFileSync(new URL(file, dist), 'utf8');
        texts.set(file, text);
        return text.slice(0, offset).split('\n').length;
      };
      const where = new Map();
      for (const [key, id] of blockIds) {
        if (coveredBlocks.has(id)) continue;
        const [file = '', , , start] = key.split('|');
        const at = `${file}:${lineOf(file, Number(start))}`;
        where.set(at, (where.get(at) ?? 0) + 1);
      }
      w(`  never reached (${blockIds.size - coveredBlocks.size} blocks): ${[...where.keys()].sort().join(', ')}`);
    }
  }
  process.exitCode = crashes.length || hangs.length ? 1 : 0;
}

await main();
