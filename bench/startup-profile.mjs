// What a CLI process loads and where its start-up CPU goes, by package.
//   node bench/startup-profile.mjs <envelope args…>     e.g. encrypt --keyring k.json --in f --out f.enc
// Two untimed runs of the command: one with module-trace.mjs (every ES and CommonJS module
// loaded, with its size on disk), one under `node --cpu-prof` (self time of each sampled
// function, charged to the package its script belongs to; "(program)" is V8 parsing and
// compiling plus native work outside JavaScript, "(garbage collector)" is GC).
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENVELOPE, childEnv, runOnce } from './proc.mjs';
import { missing } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRACE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'module-trace.mjs');

/** "@envelope/config", "zod", "@aws-sdk/client-kms", "node:internal"… for a file path or URL. */
export function packageOf(where) {
  if (!where) return '(no script)';
  if (where.startsWith('node:')) return 'node (built-in)';
  const p = where.startsWith('file:') ? fileURLToPath(where) : where;
  const nm = p.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (nm >= 0) {
    const rest = p.slice(nm + 14).split(path.sep);
    // A workspace package is linked into node_modules/@envelope/<name>.
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  // Ours, in this checkout or in a snapshot of another build (bench/snapshot.mjs).
  const pk = p.lastIndexOf(`${path.sep}packages${path.sep}`);
  if (pk >= 0) return `@envelope/${p.slice(pk + 10).split(path.sep)[0]}`;
  const rel = path.relative(root, p).split(path.sep);
  return rel[0] === '..' ? p : rel.join('/');
}

/** A profile frame's bucket: Node's module loader, a package, or undefined (look further up the stack). */
function category(url) {
  if (url.startsWith('node:internal/modules/') || url.startsWith('node:internal/vm'))
    return 'node: module loading (resolve, read, compile, link)';
  if (!url || url.startsWith('node:')) return undefined;
  return packageOf(url);
}

/** Every module the command loads, grouped by package: [{ pkg, modules, bytes }] (largest first) and the built-in count. */
export async function traceModules(args, opts = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envelope-bench-trace-'));
  try {
    const file = path.join(dir, 'trace.txt');
    const r = await runOnce(process.execPath, ['--import', pathToFileURL(TRACE).href, opts.cli ?? ENVELOPE, ...args], {
      ...opts,
      env: childEnv({ ...opts.extraEnv, ENVELOPE_BENCH_TRACE: file }),
    });
    if (r.code !== 0) throw new Error(`traced run failed: ${r.stderr.split('\n')[0]}`);
    const seen = new Set();
    let builtins = 0;
    const byPkg = new Map();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [kind, where] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      if (kind === 'builtins') builtins = Number(where);
      if (kind !== 'esm' && kind !== 'cjs') continue;
      const p = where.startsWith('file:') ? fileURLToPath(where) : where;
      if (seen.has(p) || p.endsWith(`${path.sep}bench${path.sep}module-trace.mjs`)) continue;
      seen.add(p);
      const pkg = packageOf(p);
      const e = byPkg.get(pkg) ?? { pkg, modules: 0, bytes: 0 };
      e.modules++;
      try {
        e.bytes += statSync(p).size;
      } catch {
        // A virtual module: counted, no size.
      }
      byPkg.set(pkg, e);
    }
    const packages = [...byPkg.values()].sort((a, b) => b.bytes - a.bytes);
    return { packages, modules: seen.size, bytes: packages.reduce((s, x) => s + x.bytes, 0), builtins };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Self CPU time by package from one `--cpu-prof` run: { totalMs, packages: [{ pkg, ms }] }. */
export async function profileStartup(args, opts = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envelope-bench-prof-'));
  try {
    const r = await runOnce(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100', opts.cli ?? ENVELOPE, ...args],
      {
        ...opts,
        env: childEnv(opts.extraEnv),
      },
    );
    if (r.code !== 0) throw new Error(`profiled run failed: ${r.stderr.split('\n')[0]}`);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) ?? missing('.cpuprofile file');
    const p = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const dt = new Map();
    // timeDeltas[i] is the time before sample i: charge it to that sample's node.
    p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    const byPkg = new Map();
    for (const [id, us] of dt) {
      // Charged to the innermost frame on the stack that is module loading or a package's code
      // (a native function or a built-in such as node:fs is charged to whoever called it).
      let pkg;
      for (let cur = id; cur !== undefined && pkg === undefined; cur = parent.get(cur)) pkg = category(byId.get(cur).callFrame.url);
      const f = byId.get(id).callFrame;
      pkg ??= f.url
        ? 'node: other built-ins'
        : f.functionName.startsWith('(')
          ? f.functionName
          : 'native calls with no JS caller (fs, timers)';
      byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us / 1000);
    }
    const packages = [...byPkg].map(([pkg, ms]) => ({ pkg, ms })).sort((a, b) => b.ms - a.ms);
    return { totalMs: (p.endTime - p.startTime) / 1000, packages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const t = await traceModules(args);
  console.log(`${t.modules} modules (${(t.bytes / 1024).toFixed(0)} KiB on disk), ${t.builtins} built-in modules`);
  for (const x of t.packages)
    console.log(`  ${x.pkg.padEnd(36)} ${String(x.modules).padStart(4)} modules ${(x.bytes / 1024).toFixed(0).padStart(6)} KiB`);
  const prof = await profileStartup(args);
  console.log(`\nCPU profile: ${prof.totalMs.toFixed(0)} ms from the profiler's start to exit; self time by package:`);
  for (const x of prof.packages.slice(0, 20)) console.log(`  ${x.pkg.padEnd(36)} ${x.ms.toFixed(1).padStart(7)} ms`);
}
