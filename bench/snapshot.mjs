// A frozen copy of the built packages, to measure another build against it in the same run:
//   node bench/snapshot.mjs <dir>            copies packages/*/{package.json,dist,bin} of this
//                                            checkout (build it first) into <dir>
//   ENVELOPE_BENCH_BASELINE=<dir> npm run bench -- --only=startup,cli-roundtrip
// adds "baseline" rows (the snapshot's CLI) interleaved with the current build's. The snapshot's
// node_modules links every third-party package back to this checkout's (same versions), and its
// @envelope/* to its own copies.
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dest = path.resolve(process.argv[2] ?? '');
if (!process.argv[2] || existsSync(dest)) throw new Error('usage: node bench/snapshot.mjs <new directory>');
mkdirSync(path.join(dest, 'node_modules', '@envelope'), { recursive: true });
for (const name of readdirSync(path.join(root, 'packages'))) {
  const from = path.join(root, 'packages', name);
  if (!existsSync(path.join(from, 'dist'))) throw new Error(`packages/${name} is not built (npm ci or npx tsc -b first)`);
  for (const part of ['package.json', 'dist', 'bin']) {
    // Timestamps kept: the CLI's launcher runs its bundle only while the packages' build stamps
    // are no newer than the bundle's manifest says (packages/cli/bin/envelope.js).
    if (existsSync(path.join(from, part)))
      cpSync(path.join(from, part), path.join(dest, 'packages', name, part), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(path.join('..', '..', 'packages', name), path.join(dest, 'node_modules', '@envelope', name));
}
for (const entry of readdirSync(path.join(root, 'node_modules'))) {
  if (entry === '@envelope' || entry === '.bin' || entry.startsWith('.')) continue;
  symlinkSync(path.join(root, 'node_modules', entry), path.join(dest, 'node_modules', entry));
}
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
writeFileSync(
  path.join(dest, 'package.json'),
  JSON.stringify({ name: 'envelope-snapshot', private: true, type: 'module', commit }, null, 2),
);
process.stdout.write(`snapshot of ${commit} in ${dest}\n`);
