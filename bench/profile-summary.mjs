// Self time by function from a V8 .cpuprofile (node --cpu-prof), and inclusive time of the
// functions that matter for the frame loop.
//   node bench/profile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [, , file = '', topArg = '25'] = process.argv;
const p = JSON.parse(readFileSync(file, 'utf8'));
const total = (p.endTime - p.startTime) / 1000; // ms
const samples = p.samples.length;
const msPerSample = total / samples;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
};
const self = new Map();
const incl = new Map();
const hits = new Map();
for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
for (const [id, h] of hits) {
  const n = byId.get(id);
  self.set(name(n), (self.get(name(n)) ?? 0) + h);
  // Inclusive: every distinct function on the stack gets the sample once.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + h);
    }
  }
}
const pct = (h) => `${((100 * h) / samples).toFixed(1).padStart(5)}%`;
const ms = (h) => `${(h * msPerSample).toFixed(0).padStart(6)} ms`;
console.log(`${path.basename(file)}: ${samples} samples over ${(total / 1000).toFixed(1)} s\n\nself time:`);
for (const [k, h] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${pct(h)} ${ms(h)}  ${k}`);
console.log('\ninclusive time (top):');
for (const [k, h] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${pct(h)} ${ms(h)}  ${k}`);
