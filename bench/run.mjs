#!/usr/bin/env node
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
/**
 * The benchmark suite, side by side with @aws-crypto/client-node and the raw node:crypto floor.
 *   npm run bench                     full run (~10 min): JSON + docs/benchmarks.md + SVG chart
 *   npm run bench -- --quick          ~1 min, fewer sizes and iterations; JSON only
 *   npm run bench -- --only=small,rss some cases only (no docs)
 *   npm run bench -- --no-docs        full run without touching docs/
 * Cases are the files in bench/cases/, run in file-name order; each exports id, title,
 * run({ quick, log }) and optionally markdown(result). Never fails on speed: the exit code is
 * non-zero only when a case crashed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCases, targets, writeDocs } from './docs.mjs';
import { met } from './format.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, 'no-docs': { type: 'boolean' }, only: { type: 'string' } } });
const quick = values.quick === true;
const only = values.only?.split(',');
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const log = (s) => process.stdout.write(`${s}\n`);

const started = performance.now();
const date = new Date().toISOString();
const file = `${date.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`;
const out = path.join(here, 'results', file);
const results = { quick, date, file, machine: machine(), cases: {} };
mkdirSync(path.dirname(out), { recursive: true });
const save = () => {
  results.machine.loadAverageEnd = loadavg()[0];
  results.seconds = (performance.now() - started) / 1000;
  writeFileSync(out, JSON.stringify(results, null, 2));
};

const m = results.machine;
log(
  `envelope benchmarks (${quick ? 'quick' : 'full'}) — ${m.cpu}, ${m.cores} cores, Node ${m.node}, SDK ${m.sdk}, envelope ${m.commit}${m.dirty ? '+' : ''}`,
);
let crashed = false;
for (const c of await loadCases()) {
  if (only && !only.includes(c.id)) continue;
  log(`\n## ${c.title}`);
  const t0 = performance.now();
  try {
    results.cases[c.id] = { result: await c.run({ quick, log }) };
  } catch (e) {
    crashed = true;
    const why = String((e instanceof Error && e.stack) || e);
    results.cases[c.id] = { error: why };
    log(`CRASHED: ${why}`);
  }
  results.cases[c.id].seconds = (performance.now() - t0) / 1000;
  save();
}

log('\n## Targets (ours vs the SDK and the raw floor, this run)');
for (const t of targets(results))
  log(`${met(t.met).replace(/\*/g, '').padEnd(9)} ${t.name}: ${t.measured || 'not measured in this run'} (target ${t.target})`);
save();
log(`\nresults: ${path.relative(root, out)} (${results.seconds.toFixed(0)} s)`);
if (!quick && !only && !values['no-docs']) {
  await writeDocs(results);
  log('docs/benchmarks.md and docs/benchmarks-throughput.svg regenerated');
}
process.exitCode = crashed ? 1 : 0;

function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // Not Linux: keep os.cpus()'s model.
  }
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: root, encoding: 'utf8' }).trim() !== '';
  } catch {
    // Not a git checkout.
  }
  const sdk = JSON.parse(readFileSync(path.join(root, 'node_modules/@aws-crypto/client-node/package.json'), 'utf8')).version;
  return { cpu, cores: cpus().length, node: process.version, sdk, commit, dirty, loadAverageStart: loadavg()[0] };
}
