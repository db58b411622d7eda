// Bundles the compiled CLI (dist/main.js and everything it imports, @envelope/* and third-party
// alike) into dist/bundle/: a few minified chunks instead of ~90 ES modules for a raw-keyring
// command and ~900 for a KMS one. Node's ES module loader pays per file (resolve, read, compile,
// link); the bundle is what takes a raw-keyring encrypt from 2.2x `node -e 0` to about 1.7x, and
// the failover path's start-up down by a quarter (docs/benchmarks.md, issue 16).
//
// Dynamic imports stay dynamic (chunks), so a raw-keyring command still never loads the AWS SDK.
// Plugins are not bundled: they are imported at run time from the installation, as before
// (docs/plugins.md). The frame worker is an entry of its own beside the chunks, where
// @envelope/core's pool looks for it (`new URL('./frame-worker.js', import.meta.url)`).
//
// dist/bundle/manifest.json stamps every @envelope package the bundle was made from (the size,
// time and SHA-256 of its dist/.tsbuildinfo, which tsc -b rewrites whenever it rebuilds it):
// bin/envelope.js runs the bundle only while none has changed, and dist/ otherwise, so a `tsc -b`
// without a re-bundle never runs stale code.
//
// Run by the root `prepare` script (npm ci) and by this package's `build`.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = path.dirname(cliDir);
const outDir = path.join(cliDir, 'dist', 'bundle');
const coreDist = path.join(packagesDir, 'core', 'dist');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const result = await build({
  input: { main: path.join(cliDir, 'dist', 'main.js'), 'frame-worker': path.join(coreDist, 'parallel', 'frame-worker.js') },
  platform: 'node',
  // The ES module build of every package that has one: the AWS SDK's packages name their CommonJS
  // build "main", and a mix of both carried two copies of @smithy/core (a KMS decrypt loaded 560
  // KiB of code instead of ~250).
  resolve: { mainFields: ['module', 'main'] },
  // Optional peer, loaded only when OpenTelemetry is configured, from the application's install.
  external: [/^node:/, '@opentelemetry/api'],
  output: { dir: outDir, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', minify: true },
  logLevel: 'warn',
});

/** The @envelope packages in the bundle (their directories under packages/). */
const packages = new Set();
let modules = 0;
for (const chunk of result.output) {
  if (chunk.type !== 'chunk') continue;
  for (const id of chunk.moduleIds) {
    const rel = path.relative(packagesDir, id);
    if (rel.startsWith('..') || path.isAbsolute(rel) || rel.split(path.sep).includes('node_modules')) continue;
    packages.add(rel.split(path.sep)[0]);
    modules++;
  }
}
if (!packages.has('core')) throw new Error('bundle: @envelope/core is not in the bundle');
// One stamp per package: tsc -b rewrites dist/.tsbuildinfo whenever it rebuilds the package, and
// leaves it alone when the package is up to date. (A stat per module cost ~5 ms of every start.)
// Size and time decide at once; the hash, when a cache restore has touched the file (turbo).
const manifest = {
  note: 'bin/envelope.js runs this bundle only while every file below is unchanged (same size; not newer, or the same SHA-256)',
  inputs: [...packages].sort().map((name) => {
    const stamp = path.join(packagesDir, name, 'dist', '.tsbuildinfo');
    const st = statSync(stamp, { throwIfNoEntry: false });
    if (!st) throw new Error(`bundle: ${path.relative(process.cwd(), stamp)} is missing: build with tsc -b first`);
    const sha256 = createHash('sha256').update(readFileSync(stamp)).digest('hex');
    return [path.relative(outDir, stamp).split(path.sep).join('/'), st.size, Math.ceil(st.mtimeMs), sha256];
  }),
};
writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest));
process.stdout.write(
  `bundle: ${result.output.length} files from ${modules} modules of ${packages.size} @envelope packages in ${path.relative(process.cwd(), outDir) || '.'}\n`,
);
